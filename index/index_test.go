package index

import (
	"context"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/impbot/impbot/knowledge"
)

func top(t *testing.T, ix *Index, q string) Hit {
	t.Helper()
	r, err := ix.Search(context.Background(), "en", q, 5)
	if err != nil {
		t.Fatalf("search %q: %v", q, err)
	}
	return r.Top()
}

func TestFindsArticlesByAbbreviationSynonymAndTypo(t *testing.T) {
	ix := shipped(t)
	cases := map[string]string{
		"sowp":                               "spousal-owp-workers",
		"bridging open work permit":          "bowp",
		"BOWP":                               "bowp",
		"usmca professional":                 "cusma-professionals",
		"T-MEC profesional":                  "cusma-professionals",
		"working holiday visa age limit":     "iec-overview",
		"pvt canada":                         "iec-overview",
		"employer complience fee refund":     "employer-compliance-fee",
		"post graduation work permit lenght": "pgwp",
		"flagpoling":                         "port-of-entry-and-flagpoling",
		"implied status":                     "extensions-maintained-status",
		"intracompany transfer specialized knowledge": "intra-company-transferees",
	}
	for q, want := range cases {
		if got := top(t, ix, q); got.ID != want {
			t.Errorf("%q: top is %q (%.2f), want %q", q, got.ID, got.Confidence, want)
		}
	}
}

func TestOffTopicGetsLowConfidence(t *testing.T) {
	ix := shipped(t)
	for _, q := range []string{"what is the best pizza in naples", "how to bake sourdough bread", "lakers score last night"} {
		if h := top(t, ix, q); h.Confidence >= 0.30 {
			t.Errorf("%q: confidence %.2f for %s, want < 0.30 (the router's did-you-mean threshold)", q, h.Confidence, h.ID)
		}
	}
}

func TestAdversarialInputIsSafe(t *testing.T) {
	ix := shipped(t)
	inputs := []string{
		"", " ", "+title:x -body:*", `"unbalanced quote`, `back\slash\\ \"`, "/.*/", "pgwp~2", "fee:>5",
		"(((", "C++", "*", "?", "title:pgwp", strings.Repeat("work permit ", 400), strings.Repeat("é", 4000),
		"😀😀😀", "\xff\xfe\xfd", "\x00\x01\x02", strings.Repeat("a", 10000),
	}
	for _, in := range inputs {
		r, err := ix.Search(context.Background(), "en", in, 5)
		if err != nil {
			t.Errorf("%q: %v", in, err)
		}
		for _, h := range r.Hits {
			if h.Confidence < 0 || h.Confidence > 1 {
				t.Errorf("%q: confidence %v out of range", in, h.Confidence)
			}
		}
	}
}

func TestQuerySyntaxIsNotInterpreted(t *testing.T) {
	ix := shipped(t)
	// In Bleve's query-string syntax "-pgwp" would exclude the article and
	// "title:" would select a field. Here they are plain words.
	a := top(t, ix, "pgwp")
	b := top(t, ix, "-pgwp +title:")
	if a.ID != "pgwp" || b.ID != "pgwp" {
		t.Fatalf("got %s and %s, want pgwp for both", a.ID, b.ID)
	}
}

func TestSearchHonoursContext(t *testing.T) {
	ix := shipped(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ix.Search(ctx, "en", "work permit fee", 5); err == nil {
		t.Fatal("want an error for a cancelled context")
	}
}

func TestUnknownLanguageFallsBackToEnglish(t *testing.T) {
	ix := shipped(t)
	r, err := ix.Search(context.Background(), "de", "pgwp", 3)
	if err != nil || r.Lang != "en" || r.Top().ID != "pgwp" {
		t.Fatalf("got %+v, %v", r.Top(), err)
	}
}

func TestConcurrentSearch(t *testing.T) {
	t.Parallel() // reads the shared index or builds its own; leaves CacheDir alone
	ix := shipped(t)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Go(func() {
			for j := 0; j < 50; j++ {
				if _, err := ix.Search(context.Background(), "en", "spouse open work permit", 3); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

var benchQuestions = []string{
	"how much is the employer compliance fee",
	"my wife got a job in toronto can i work too",
	"can i get my pgwp at the border",
	"im american with a job offer, do i qualify under cusma",
	"ok long story, my permit expires next month and i applied for PR with express entry, what can i do to keep working",
}

// BenchmarkSearch measures one question against the shipped knowledge and
// reports the 50th and 99th percentile latencies.
func BenchmarkSearch(b *testing.B) {
	// Measured at Go's default GOGC (the binary raises it, which only
	// helps).
	ix := shipped(b)
	benchSearchLatency(b, ix, benchQuestions)
}

// benchSearchLatency asks the English questions in turn, one per
// iteration, and reports the 50th and 99th percentile latencies.
func benchSearchLatency(b *testing.B, ix *Index, qs []string) {
	b.Helper()
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := ix.Search(context.Background(), "en", qs[i%len(qs)], 6); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	reportPercentiles(b, lat)
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkBuild measures building the index over the shipped knowledge
// (the rankers cached, the index not: it is built and written to the
// cache, as at the first start after a knowledge edit).
func BenchmarkBuild(b *testing.B) {
	kb, err := knowledge.LoadShipped()
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	withCacheDir(b, dir)
	if ix, err := Build(kb); err != nil { // caches the rankers
		b.Fatal(err)
	} else {
		ix.Close()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		removeIndexEntries(b, dir)
		b.StartTimer()
		ix, err := Build(kb)
		if err != nil {
			b.Fatal(err)
		}
		ix.Close()
	}
}

// BenchmarkStartToReady measures loading the embedded knowledge and
// building the index: what the binary does before it can answer (with the
// caches of the machine running it: the index and rankers are normally
// cached).
func BenchmarkStartToReady(b *testing.B) {
	for i := 0; i < b.N; i++ {
		kb, err := knowledge.LoadShipped()
		if err != nil {
			b.Fatal(err)
		}
		ix, err := Build(kb)
		if err != nil {
			b.Fatal(err)
		}
		ix.Close()
	}
}
