package index

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/impbot/impbot/knowledge"
)

// withCacheDir points the caches at dir for the test.
func withCacheDir(t testing.TB, dir string) {
	t.Helper()
	old := CacheDir
	CacheDir = dir
	t.Cleanup(func() { CacheDir = old })
}

// BenchmarkBuildCached measures Build of the shipped knowledge when the
// cache holds its index and rankers: opening and decoding them.
func BenchmarkBuildCached(b *testing.B) {
	withCacheDir(b, b.TempDir())
	kb, err := knowledge.LoadShipped()
	if err != nil {
		b.Fatal(err)
	}
	ix, err := Build(kb) // fills the cache
	if err != nil {
		b.Fatal(err)
	}
	ix.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ix, err := Build(kb)
		if err != nil {
			b.Fatal(err)
		}
		ix.Close()
	}
}

// removeIndexEntries empties the index cache of dir (the rankers stay).
func removeIndexEntries(tb testing.TB, dir string) {
	tb.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "index-") {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				tb.Fatal(err)
			}
		}
	}
}

// BenchmarkBuildNoIndexCache measures building the index with the index
// cache off (the rankers cached): the build alone, without writing it.
func BenchmarkBuildNoIndexCache(b *testing.B) {
	kb, err := knowledge.LoadShipped()
	if err != nil {
		b.Fatal(err)
	}
	withCacheDir(b, b.TempDir())
	if ix, err := Build(kb); err != nil { // caches the rankers
		b.Fatal(err)
	} else {
		ix.Close()
	}
	noIndexCache = true
	b.Cleanup(func() { noIndexCache = false })
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ix, err := Build(kb)
		if err != nil {
			b.Fatal(err)
		}
		ix.Close()
	}
}
