package index

import (
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
