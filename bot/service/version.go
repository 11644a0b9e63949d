package service

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/impbot/impbot/knowledge"
)

// KnowledgeHash is a short hash of a knowledge folder's files ("" = the
// embedded knowledge): their paths and contents, so two deployments can
// tell whether they answer from the same knowledge.
func KnowledgeHash(dir string) (string, error) {
	var fsys fs.FS = knowledge.Shipped
	if dir != "" {
		fsys = os.DirFS(dir)
	}
	var paths []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != "." && strings.HasPrefix(d.Name(), ".") {
			return fs.SkipDir
		}
		if !d.IsDir() && !strings.HasPrefix(d.Name(), ".") {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hash knowledge: %w", err)
	}
	sort.Strings(paths)
	h := sha256.New()
	for _, p := range paths {
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return "", fmt.Errorf("hash knowledge: %w", err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// Version describes the binary (module version, VCS revision, Go version)
// and the knowledge it answers from (kdir, "" = embedded), for
// `impbot version`.
func Version(kdir string) (string, error) {
	mod, rev := "(unknown)", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		mod = bi.Main.Version
		if mod == "" {
			mod = "(devel)"
		}
		var modified bool
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" && modified {
			rev += " (modified)"
		}
	}
	b, err := loadKnowledge(kdir)
	if err != nil {
		return "", err
	}
	hash, err := KnowledgeHash(kdir)
	if err != nil {
		return "", err
	}
	src := "embedded"
	if kdir != "" {
		src = kdir
	}
	var out strings.Builder
	fmt.Fprintf(&out, "impbot %s", mod)
	if rev != "" {
		fmt.Fprintf(&out, ", commit %s", rev)
	}
	fmt.Fprintf(&out, ", %s\n", runtime.Version())
	fmt.Fprintf(&out, "knowledge %s (%s): %d articles in %d language(s)\n", hash, src, b.Count(), len(b.Langs()))
	return out.String(), nil
}
