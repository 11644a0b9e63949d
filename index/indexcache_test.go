package index

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/impbot/impbot/knowledge"
)

// smallBase is the shipped knowledge cut to its first n articles in each
// language: quick to build, the same kind of content.
func smallBase(t testing.TB, n int) *knowledge.Base {
	t.Helper()
	b := shippedBase(t)
	s := *b
	s.Articles = map[string][]*knowledge.Article{}
	for lang, arts := range b.Articles {
		s.Articles[lang] = arts[:min(n, len(arts))]
	}
	return &s
}

// answers searches every question and returns the results.
func answers(t testing.TB, ix *Index, lang string, qs []string) []Result {
	t.Helper()
	out := make([]Result, len(qs))
	for i, q := range qs {
		r, err := ix.Search(context.Background(), lang, q, 5)
		if err != nil {
			t.Fatalf("search %q: %v", q, err)
		}
		out[i] = r
	}
	return out
}

// buildCounted builds b with the cache folder cache and reports how many
// languages came from the cache and how many were written to it.
func buildCounted(t testing.TB, b *knowledge.Base, cache string) (ix *Index, hits, writes int64) {
	t.Helper()
	ix, err := build(b, DefaultRank, cache)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	for _, li := range ix.langs {
		if li.fromCache {
			hits++
		}
		if li.toCache {
			writes++
		}
	}
	return ix, hits, writes
}

// seedShippedModels writes the shipped index's rankers (shipped()) into
// the cache folder dir under the keys a build of b looks up, so a build
// there of the shipped knowledge reads its rankers instead of training
// them again: the index cache (what these tests are about) is separate
// from the model cache, and whether a trained and a cached ranker answer
// alike is TestTwoBuildsAnswerIdentically's job.
func seedShippedModels(t testing.TB, dir string, b *knowledge.Base) {
	t.Helper()
	ix := shipped(t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"en", "fr"} {
		key := modelKey(lang, b.Articles[lang], b.Synonyms[lang], b.Domain[lang], b.Unrelated[lang], DefaultRank)
		var buf bytes.Buffer
		if err := writeModel(&buf, ix.langs[lang].model); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "ranker-"+key+".bin"), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// The cached index answers every development question, in both languages,
// exactly as the index built fresh (hits, scores, passages, confidence).
// Both builds read their rankers from the cache (seedShippedModels): the
// fresh one builds its Bleve index and term tables, the cached one opens
// them from the cache folder.
func TestCachedIndexAnswersLikeAFreshBuild(t *testing.T) {
	t.Parallel() // its own cache folder
	b := shippedBase(t)
	dir := t.TempDir()
	seedShippedModels(t, dir, b)
	fresh, hits, writes := buildCounted(t, b, dir)
	if hits != 0 || writes != 2 {
		t.Fatalf("first build: %d languages from the cache, %d written; want 0, 2", hits, writes)
	}
	for _, lang := range []string{"en", "fr"} {
		if fresh.langs[lang].wordCache != nil {
			t.Fatalf("%s: the first build trained its ranker: the seeded model was not used", lang)
		}
	}
	cached, hits, writes := buildCounted(t, b, dir)
	if hits != 2 || writes != 0 {
		t.Fatalf("second build: %d languages from the cache, %d written; want 2, 0", hits, writes)
	}
	if got := fmt.Sprint(fresh.FromCache(), cached.FromCache()); got != "[] [en fr]" {
		t.Fatalf("FromCache: fresh and cached %s", got)
	}
	for _, set := range []struct{ lang string }{{"en"}, {"fr"}} {
		qs := devQuestions(t, set.lang) // the development sets (English: and the extra set)
		if raceBuild {
			// Under -race a sample (every fourth question); the whole
			// sets in the CI step without -race.
			var sample []string
			for i := 0; i < len(qs); i += 4 {
				sample = append(sample, qs[i])
			}
			qs = sample
		}
		want, got := answers(t, fresh, set.lang, qs), answers(t, cached, set.lang, qs)
		found := 0
		for i := range qs {
			if !reflect.DeepEqual(want[i], got[i]) {
				t.Errorf("%s %q:\nfresh  %+v\ncached %+v", set.lang, qs[i], want[i], got[i])
			}
			if len(got[i].Hits) > 0 {
				found++
			}
		}
		if found < len(qs)/2 {
			t.Errorf("%s: only %d of %d questions found an article", set.lang, found, len(qs))
		}
	}
}

// entryDirIn is the entry of lang's index of b in the cache folder cache.
func entryDirIn(cache string, b *knowledge.Base, lang string) string {
	key := indexKey(lang, b.Articles[lang], b.Synonyms[lang], b.Domain[lang], b.Unrelated[lang], DefaultRank)
	return filepath.Join(cache, indexEntryName(lang, key))
}

// largestFile is the biggest file under dir (the Bleve segment).
func largestFile(t testing.TB, dir string) string {
	t.Helper()
	files, err := entryFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	best, size := "", int64(-1)
	for _, f := range files {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > size {
			best, size = filepath.Join(dir, f), fi.Size()
		}
	}
	return best
}

func flipByte(t testing.TB, path string, at func(n int) int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[at(len(b))] ^= 0x5a
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// rewriteManifest makes the manifest agree with the entry's files again,
// so the checks behind it (state, Bleve) are what must catch the damage.
func rewriteManifest(t testing.TB, dir, key string) {
	t.Helper()
	files, err := entryFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := manifest{Format: indexFormat, Key: key}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		m.Files = append(m.Files, manifestFile{Name: f, Size: int64(len(b)), CRC: crc32Of(b)})
	}
	mb, _ := json.Marshal(m)
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), mb, 0o644); err != nil {
		t.Fatal(err)
	}
}

// A damaged or foreign entry is never used: the index is rebuilt, answers
// as a fresh one, and the entry is rewritten so the next start uses it.
func TestDamagedCacheEntryIsRebuilt(t *testing.T) {
	t.Parallel() // its own cache folders
	b := smallBase(t, 8)
	other := smallBase(t, 7) // another knowledge: another key
	qs := []string{"how much is the employer compliance fee", "can my spouse work in canada", "what is an lmia",
		"how do i apply for a work permit", "quel est le programme de mobilité internationale", "frais de conformité de l'employeur"}
	cases := []struct {
		name   string
		damage func(t *testing.T, dir string)
	}{
		{"segment byte flipped", func(t *testing.T, dir string) { flipByte(t, largestFile(t, dir), func(n int) int { return n / 2 }) }},
		{"segment truncated", func(t *testing.T, dir string) {
			p := largestFile(t, dir)
			fi, _ := os.Stat(p)
			if err := os.Truncate(p, fi.Size()/3); err != nil {
				t.Fatal(err)
			}
		}},
		{"half-written: no manifest", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "manifest.json")) }},
		{"half-written: state missing", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "state.gob")) }},
		{"manifest garbage", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "manifest.json"), []byte("{\x00garbage"), 0o644)
		}},
		{"extra file", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "bleve", "store", "stray.zap"), []byte("x"), 0o644)
		}},
		{"empty folder", func(t *testing.T, dir string) {
			os.RemoveAll(dir)
			os.Mkdir(dir, 0o755)
		}},
		{"foreign entry (another knowledge's)", func(t *testing.T, dir string) {
			plantForeignEntry(t, other, dir)
		}},
		{"foreign entry, manifest forged to match", func(t *testing.T, dir string) {
			plantForeignEntry(t, other, dir)
			rewriteManifest(t, dir, strings.TrimPrefix(filepath.Base(dir), "index-en-"))
		}},
		{"state garbage, manifest matching", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "state.gob"), []byte("not a gob at all"), 0o644)
			rewriteManifest(t, dir, strings.TrimPrefix(filepath.Base(dir), "index-en-"))
		}},
		{"segment byte flipped, manifest matching", func(t *testing.T, dir string) {
			flipByte(t, largestFile(t, dir), func(n int) int { return n - 20 })
			rewriteManifest(t, dir, strings.TrimPrefix(filepath.Base(dir), "index-en-"))
		}},
		{"segment truncated, manifest matching", func(t *testing.T, dir string) {
			p := largestFile(t, dir)
			fi, _ := os.Stat(p)
			os.Truncate(p, fi.Size()/2)
			rewriteManifest(t, dir, strings.TrimPrefix(filepath.Base(dir), "index-en-"))
		}},
	}
	// Under -race (raceBuild) four of the cases, one of each kind of check
	// that must catch the damage (manifest, state, Bleve's segment, the
	// knowledge's key): each case runs the same load, reject, rebuild and
	// rewrite code, which is what the detector watches. All twelve run
	// without -race (`go test ./index`, its own CI step).
	underRace := map[string]bool{"half-written: no manifest": true, "state garbage, manifest matching": true,
		"segment byte flipped, manifest matching": true, "foreign entry, manifest forged to match": true}
	cache := t.TempDir()
	ref, _, _ := buildCounted(t, b, cache)
	want := answers(t, ref, "en", qs)
	for _, c := range cases {
		if raceBuild && !underRace[c.name] {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			dir := entryDirIn(cache, b, "en")
			if _, err := readEntry(dir, strings.TrimPrefix(filepath.Base(dir), "index-en-")); err != nil {
				t.Fatalf("entry not valid before the damage: %v", err)
			}
			c.damage(t, dir)
			ix, hits, writes := buildCounted(t, b, cache)
			if hits != 1 || writes != 1 { // French from the cache, English rebuilt
				t.Fatalf("after the damage: %d languages from the cache, %d written; want 1, 1", hits, writes)
			}
			if got := answers(t, ix, "en", qs); !reflect.DeepEqual(got, want) {
				t.Fatalf("rebuilt index answers differently:\n%+v\n%+v", got, want)
			}
			ix, hits, _ = buildCounted(t, b, cache)
			if hits != 2 {
				t.Fatalf("the rewritten entry is not used: %d languages from the cache", hits)
			}
			if got := answers(t, ix, "en", qs); !reflect.DeepEqual(got, want) {
				t.Fatalf("rewritten entry answers differently")
			}
		})
	}
}

// A cache folder that cannot be created or written: the index is built in
// memory, and that is logged once. (The tests run as root, which ignores
// permission bits, so the folder is made impossible by a file in its way.)
func TestUnusableCacheDirBuildsInMemoryAndLogsOnce(t *testing.T) {
	// Two articles a language: each of the four builds trains its rankers
	// (no cache to read them from), and this test runs alone (it sets the
	// default logger).
	b := smallBase(t, 2)
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	cacheWarn = sync.Once{}
	for _, dir := range []string{file, filepath.Join(file, "cache")} { // a file; under a file
		for range 2 {
			ix, hits, writes := buildCounted(t, b, dir)
			if hits != 0 || writes != 0 {
				t.Fatalf("%s: %d from the cache, %d written", dir, hits, writes)
			}
			if r, err := ix.Search(context.Background(), "en", "how much is the employer compliance fee", 3); err != nil || len(r.Hits) == 0 {
				t.Fatalf("search: %v", err)
			}
		}
	}
	if n := strings.Count(buf.String(), "index cache unavailable"); n != 1 {
		t.Fatalf("logged %d times, want once:\n%s", n, buf.String())
	}
}

// An edited knowledge is another key: it is built, not taken from the
// cache, and answers with the edit; the previous knowledge's entry still
// serves it (a reload back).
func TestKnowledgeEditIsANewEntry(t *testing.T) {
	t.Parallel() // its own cache folder
	cache := t.TempDir()
	b := smallBase(t, 6)
	ix, _, _ := buildCounted(t, b, cache)
	edited := smallBase(t, 6)
	arts := append([]*knowledge.Article(nil), edited.Articles["en"]...)
	a := *arts[2]
	a.Questions = append(append([]string(nil), a.Questions...), "zebra xylophone quokka")
	arts[2] = &a
	edited.Articles["en"] = arts
	const q = "zebra xylophone quokka"
	top := func(ix *Index) string {
		r, err := ix.Search(context.Background(), "en", q, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Hits) == 0 {
			return ""
		}
		return r.Hits[0].ID
	}
	if top(ix) == a.ID {
		t.Fatalf("the unedited knowledge already answers %q with %s", q, a.ID)
	}
	ix2, hits, writes := buildCounted(t, edited, cache)
	if hits != 1 || writes != 1 { // French unchanged
		t.Fatalf("edited knowledge: %d from the cache, %d written; want 1, 1", hits, writes)
	}
	if got := top(ix2); got != a.ID {
		t.Fatalf("edited knowledge answers %q with %q, want %s", q, got, a.ID)
	}
	ix3, hits, _ := buildCounted(t, b, cache)
	if hits != 2 || top(ix3) == a.ID {
		t.Fatalf("back to the first knowledge: %d from the cache, answer %s", hits, top(ix3))
	}
}

// Replicas starting at once on one cache folder, as separate processes:
// empty, then whole, then with a damaged entry. Every one answers right,
// and the folder ends with whole entries and no temporary folders.
//
// Four replicas a round. Not under -race (raceBuild): the race detector
// sees inside one process, never between processes, so race-built replicas
// check nothing more than plain ones, at five times the CPU (about 20
// CPU-s of the package's race run); the data races a single process can
// have on the cache (loading, writing, rejecting an entry while building)
// are raced in process by TestCachedIndexAnswersLikeAFreshBuild,
// TestDamagedCacheEntryIsRebuilt and TestUnusableCacheDirBuildsInMemoryAndLogsOnce.
// This test runs in `go test ./index` (.ci/run's step without -race).
func TestReplicasShareACacheFolder(t *testing.T) {
	if os.Getenv("IMPBOT_CACHE_REPLICA") != "" {
		t.Skip("helper process")
	}
	if raceBuild {
		t.Skip("cross-process: runs without -race (go test ./index, its own CI step)")
	}
	// In parallel with the other tests that only read: the replicas are
	// other processes, and this one leaves CacheDir alone (the reference
	// index is trained and built without the cache).
	t.Parallel()
	cache := t.TempDir()
	b := smallBase(t, 8)
	ref, err := build(b, DefaultRank, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ref.Close() })
	want := ""
	for _, lang := range []string{"en", "fr"} {
		r, err := ref.Search(context.Background(), lang, replicaQuestion[lang], 3)
		if err != nil || len(r.Hits) == 0 {
			t.Fatalf("%s: no answer (%v)", lang, err)
		}
		want += r.Hits[0].ID + " "
	}
	os.RemoveAll(cache)
	const n = 4
	run := func(round string) (hits int) {
		outs := make([][]byte, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				cmd := exec.Command(os.Args[0], "-test.run=^TestReplicaHelper$", "-test.count=1")
				cmd.Env = append(os.Environ(), "IMPBOT_CACHE_REPLICA="+cache)
				outs[i], errs[i] = cmd.CombinedOutput()
			})
		}
		wg.Wait()
		for i := range n {
			out := string(outs[i])
			if errs[i] != nil {
				t.Fatalf("%s: replica %d: %v\n%s", round, i, errs[i], out)
			}
			_, res, ok := strings.Cut(out, "REPLICA ")
			if !ok {
				t.Fatalf("%s: replica %d printed no answer:\n%s", round, i, out)
			}
			res, _, _ = strings.Cut(res, "\n")
			var h int
			var got string
			if _, err := fmt.Sscanf(res, "hits=%d", &h); err != nil {
				t.Fatalf("%s: replica %d: %q", round, i, res)
			}
			_, got, _ = strings.Cut(res, " ")
			if got != want {
				t.Fatalf("%s: replica %d answered %q, want %q", round, i, got, want)
			}
			hits += h
		}
		ents, _ := os.ReadDir(cache)
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), "tmp-") {
				t.Fatalf("%s: temporary folder left: %s", round, e.Name())
			}
		}
		for _, lang := range []string{"en", "fr"} {
			dir := entryDirIn(cache, b, lang)
			if err := checkEntry(dir, strings.TrimPrefix(filepath.Base(dir), "index-"+lang+"-")); err != nil {
				t.Fatalf("%s: %s entry not whole: %v", round, lang, err)
			}
		}
		return hits
	}
	run("empty cache")
	if hits := run("whole cache"); hits != 2*n {
		t.Fatalf("whole cache: %d of %d language indexes opened from the cache", hits, 2*n)
	}
	flipByte(t, largestFile(t, entryDirIn(cache, b, "en")), func(n int) int { return n / 2 })
	if hits := run("damaged entry"); hits < n {
		t.Fatalf("damaged entry: %d language indexes opened from the cache, want at least the %d French", hits, n)
	}
}

var replicaQuestion = map[string]string{"en": "how much is the employer compliance fee", "fr": "frais de conformité de l'employeur"}

// TestReplicaHelper is one replica of TestReplicasShareACacheFolder (it
// does nothing in a normal run).
func TestReplicaHelper(t *testing.T) {
	cache := os.Getenv("IMPBOT_CACHE_REPLICA")
	if cache == "" {
		t.Skip("run by TestReplicasShareACacheFolder")
	}
	ix, hits, _ := buildCounted(t, smallBase(t, 8), cache)
	out := fmt.Sprintf("hits=%d ", hits)
	for _, lang := range []string{"en", "fr"} {
		r, err := ix.Search(context.Background(), lang, replicaQuestion[lang], 3)
		if err != nil || len(r.Hits) == 0 {
			t.Fatalf("%s: no answer (%v)", lang, err)
		}
		out += r.Hits[0].ID + " "
	}
	fmt.Println("REPLICA " + out)
}

// plantForeignEntry replaces the entry dir with the English entry of
// another knowledge, built in a cache folder of its own.
func plantForeignEntry(t *testing.T, other *knowledge.Base, dir string) {
	t.Helper()
	cache := t.TempDir()
	ix, err := build(other, DefaultRank, cache)
	if err != nil {
		t.Fatal(err)
	}
	ix.Close()
	src := entryDirIn(cache, other, "en")
	os.RemoveAll(dir)
	if err := os.Rename(src, dir); err != nil {
		t.Fatal(err)
	}
}
