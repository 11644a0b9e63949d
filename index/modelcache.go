package index

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unsafe"

	"github.com/impbot/impbot/knowledge"
)

// The trained ranker is cached on disk, keyed by a hash of everything it is
// trained from (the articles' texts, the unrelated examples, the synonyms
// and domain words, the configuration and the code's model version), so a
// start with unchanged knowledge loads it instead of training. Any change to
// the knowledge changes the key, so a reload trains a new model. A cache that
// cannot be read or written is ignored: the model is then trained.

// modelVersion changes whenever the features or the training change.
const modelVersion = "ranker-v2"

// CacheDir is where trained models are kept ("" turns the cache off). It
// defaults to the user's cache folder.
var CacheDir = defaultCacheDir()

func defaultCacheDir() string {
	if d := os.Getenv("IMPBOT_CACHE_DIR"); d != "" {
		if d == "off" {
			return ""
		}
		return d
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "impbot")
}

// modelKey hashes what a language's model is trained from.
func modelKey(lang string, arts []*knowledge.Article, syn [][]string, domain, unrelated []string, cfg RankConfig) string {
	h := sha256.New()
	w := func(s string) { io.WriteString(h, s); h.Write([]byte{0}) }
	w(modelVersion)
	w(lang)
	w(fmt.Sprintf("%#v", cfg))
	for _, a := range arts {
		w(a.ID)
		w(a.Title)
		w(a.Summary)
		if cfg.WBody > 0 { // the body is a training text only then
			w(a.Body)
		}
		w(strings.Join(a.Questions, "\x01"))
		w(strings.Join(a.Keywords, "\x01"))
	}
	for _, g := range syn {
		w(strings.Join(g, "\x01"))
	}
	w(strings.Join(domain, "\x01"))
	w(strings.Join(unrelated, "\x01"))
	return hex.EncodeToString(h.Sum(nil)[:12])
}

func modelPath(dir, key string) string { return filepath.Join(dir, "ranker-"+key+".bin") }

// loadModel reads a model cached in dir; nil when there is none (or it is
// broken).
func loadModel(dir, key string) *model {
	if dir == "" {
		return nil
	}
	f, err := os.Open(modelPath(dir, key))
	if err != nil {
		return nil
	}
	defer f.Close()
	m, err := readModel(bufio.NewReaderSize(f, 1<<16))
	if err != nil {
		return nil
	}
	// A model in use stays among the newest, so pruning keeps it.
	now := time.Now()
	_ = os.Chtimes(modelPath(dir, key), now, now)
	return m
}

// keepModels is how many cached models pruning keeps: a few knowledge
// versions of both languages (each model is several MB).
const keepModels = 8

// pruneModels removes all but the keep most recently used models of dir,
// so a knowledge folder edited often does not fill the disk. Errors are
// ignored: the cache only saves time.
func pruneModels(dir string, keep int) {
	paths, err := filepath.Glob(filepath.Join(dir, "ranker-*.bin"))
	if err != nil || len(paths) <= keep {
		return
	}
	type entry struct {
		path string
		mod  time.Time
	}
	es := make([]entry, 0, len(paths))
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil {
			es = append(es, entry{p, fi.ModTime()})
		}
	}
	sort.Slice(es, func(i, j int) bool { return es[i].mod.After(es[j].mod) })
	for _, e := range es[min(keep, len(es)):] {
		os.Remove(e.path)
	}
}

// saveModel writes a model to the cache folder dir (atomically; errors are
// ignored: the cache only saves time).
func saveModel(dir, key string, m *model) {
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return
	}
	tmp, err := os.CreateTemp(dir, "ranker-*.tmp")
	if err != nil {
		return
	}
	bw := bufio.NewWriterSize(tmp, 1<<16)
	err = writeModel(bw, m)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return
	}
	if err := os.Rename(tmp.Name(), modelPath(dir, key)); err != nil {
		os.Remove(tmp.Name())
		return
	}
	pruneModels(dir, keepModels)
}

func writeModel(w io.Writer, m *model) error {
	le := binary.LittleEndian
	keys := make([]uint64, len(m.feat))
	for k, i := range m.feat {
		keys[i] = k
	}
	hdr := []uint32{uint32(len(m.classes)), uint32(len(keys))}
	if err := binary.Write(w, le, hdr); err != nil {
		return err
	}
	for _, c := range m.classes {
		if err := binary.Write(w, le, uint32(len(c))); err != nil {
			return err
		}
		if _, err := io.WriteString(w, c); err != nil {
			return err
		}
	}
	for _, v := range []any{keys, m.b, m.w} {
		if err := binary.Write(w, le, v); err != nil {
			return err
		}
	}
	return nil
}

func readModel(r io.Reader) (*model, error) {
	le := binary.LittleEndian
	var hdr [2]uint32
	if err := binary.Read(r, le, &hdr); err != nil {
		return nil, err
	}
	nc, nf := int(hdr[0]), int(hdr[1])
	if nc < 1 || nc > 1<<16 || nf > 1<<24 {
		return nil, errors.New("bad model header")
	}
	m := &model{nc: nc, classes: make([]string, nc), feat: make(map[uint64]int32, nf)}
	for i := range m.classes {
		var n uint32
		if err := binary.Read(r, le, &n); err != nil {
			return nil, err
		}
		if n > 1024 {
			return nil, errors.New("bad class name")
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		m.classes[i] = string(b)
	}
	keys := make([]uint64, nf)
	m.b = make([]float32, nc)
	m.w = make([]float32, nf*nc)
	if nativeLittleEndian {
		// The file is little-endian, like this machine: read the numbers'
		// bytes in place (binary.Read decodes them one by one, about 15 ms
		// for the weights of both languages).
		for _, b := range [][]byte{bytesOf(keys), bytesOf(m.b), bytesOf(m.w)} {
			if _, err := io.ReadFull(r, b); err != nil {
				return nil, err
			}
		}
	} else {
		for _, v := range []any{keys, m.b, m.w} {
			if err := binary.Read(r, le, v); err != nil {
				return nil, err
			}
		}
	}
	for i, k := range keys {
		m.feat[k] = int32(i)
	}
	m.index()
	return m, nil
}

// nativeLittleEndian reports whether this machine stores numbers
// little-endian, as the model files do.
var nativeLittleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// bytesOf is the memory of a slice of numbers as bytes.
func bytesOf[T uint64 | float32](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(s[0])))
}
