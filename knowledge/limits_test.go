//go:build unix

package knowledge

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// article returns a valid article with this id and a body of n extra lines.
func article(id string, n int) string {
	return strings.Replace(strings.Replace(good, "id: alpha", "id: "+id, 1), "Body.\n", "Body.\n"+strings.Repeat("More words about "+id+".\n", n), 1)
}

func writeDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func hasProblem(probs Problems, file string, line int, msg string) bool {
	for _, p := range probs {
		if strings.HasSuffix(p.File, file) && (line == 0 || p.Line == line) && strings.Contains(p.Message, msg) {
			return true
		}
	}
	return false
}

func TestLimitsRefuseWithFileAndLine(t *testing.T) {
	t.Run("a file over the size limit", func(t *testing.T) {
		// 4 KiB limit: the 20-byte lines cross it on line 4096/20 + header.
		dir := writeDir(t, map[string]string{"en/alpha.md": article("alpha", 2), "en/big.md": article("big", 5000)})
		_, probs := LoadDirLimits(dir, Limits{FileBytes: 4 << 10})
		if len(probs) != 1 || !hasProblem(probs, "en/big.md", 0, "larger than 4 KB") || probs[0].Line < 100 {
			t.Fatalf("want one problem naming en/big.md and the line where 4 KB is passed, got %v", probs)
		}
	})
	t.Run("the default file limit refuses a 1 MB article", func(t *testing.T) {
		dir := writeDir(t, map[string]string{"en/alpha.md": article("alpha", 1), "en/huge.md": article("huge", 40000)})
		_, probs := LoadDir(dir)
		if !hasProblem(probs, "en/huge.md", 0, "larger than 256 KB") {
			t.Fatalf("got %v", probs)
		}
	})
	t.Run("too many articles", func(t *testing.T) {
		files := map[string]string{}
		for _, id := range []string{"a1", "a2", "a3", "a4"} {
			files["en/"+id+".md"] = article(id, 1)
		}
		_, probs := LoadDirLimits(writeDir(t, files), Limits{Articles: 3})
		if len(probs) != 1 || !hasProblem(probs, "en/a4.md", 1, "more than 3 articles") {
			t.Fatalf("got %v", probs)
		}
	})
	t.Run("a folder over the total limit", func(t *testing.T) {
		files := map[string]string{}
		for _, id := range []string{"a1", "a2", "a3"} {
			files["en/"+id+".md"] = article(id, 300) // ~7 KB each
		}
		_, probs := LoadDirLimits(writeDir(t, files), Limits{TotalBytes: 16 << 10, FileBytes: 1 << 20})
		if len(probs) != 1 || !hasProblem(probs, "en/a3.md", 0, "the folder passes 16 KB here") {
			t.Fatalf("got %v", probs)
		}
	})
}

// TestOnlyRegularFilesAreRead: a named pipe (which blocked the load
// forever), a device, a socket and a symbolic link loop are skipped and
// listed; a symbolic link to a regular file is read.
func TestOnlyRegularFilesAreRead(t *testing.T) {
	dir := writeDir(t, map[string]string{"en/alpha.md": article("alpha", 1), "elsewhere/beta.md": article("beta", 1)})
	en := filepath.Join(dir, "en")
	if err := syscall.Mkfifo(filepath.Join(en, "pipe.md"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "eligibility.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink("/dev/zero", filepath.Join(en, "zero.md")))
	must(os.Symlink("loop-b.md", filepath.Join(en, "loop-a.md")))
	must(os.Symlink("loop-a.md", filepath.Join(en, "loop-b.md")))
	must(os.Symlink(filepath.Join(dir, "elsewhere", "beta.md"), filepath.Join(en, "beta.md")))
	// A language folder that is a link is read; a looping one is skipped.
	must(os.MkdirAll(filepath.Join(dir, "elsewhere", "fr"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "elsewhere", "fr", "gamma.md"), []byte(strings.Replace(article("gamma", 1), "lang: en", "lang: fr", 1)), 0o644))
	must(os.Symlink(filepath.Join(dir, "elsewhere", "fr"), filepath.Join(dir, "fr")))
	must(os.Symlink("de", filepath.Join(dir, "de")))
	sockDir, err := os.MkdirTemp("", "kb") // socket paths must be short
	must(err)
	defer os.RemoveAll(sockDir)
	ln, err := net.Listen("unix", filepath.Join(sockDir, "s"))
	must(err)
	defer ln.Close()
	must(os.Symlink(filepath.Join(sockDir, "s"), filepath.Join(en, "sock.md")))

	done := make(chan struct{})
	var b *Base
	var probs Problems
	go func() {
		b, probs = LoadDir(dir)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(time.Minute): // generous: a blocked open never returns
		t.Fatal("loading a folder with a named pipe blocked")
	}
	if len(probs) != 0 {
		t.Fatalf("problems: %v", probs)
	}
	if b.Article("en", "beta") == nil || b.Article("en", "alpha") == nil || len(b.Articles["fr"]) != 1 {
		t.Fatal("regular files (direct or through a link, or in a linked folder) not loaded")
	}
	for _, name := range []string{"/de", "en/pipe.md", "eligibility.yaml", "en/zero.md", "en/loop-a.md", "en/loop-b.md", "en/sock.md"} {
		if !hasProblem(b.Skipped, name, 0, "skipped") {
			t.Errorf("%s not listed as skipped: %v", name, b.Skipped)
		}
	}
}
