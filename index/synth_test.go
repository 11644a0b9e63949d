package index

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/impbot/impbot/knowledge"
)

// synthBase generates a knowledge base of n English articles from the
// shipped English articles, seeded (the same seed gives the same base).
//
// Each synthetic article starts from one shipped article (its "base", taken
// in turn) and recombines real text: its title is the base's title with a
// distinguishing phrase taken from another article's keywords; its
// summary is the base's summary; its questions are 6 to 14 drawn from the
// base's questions and a few from other articles; its keywords mix the
// base's and another article's; its body is the base's sections shuffled
// with one or two sections of other articles. The shipped synonyms,
// domain words and unrelated examples are kept, so query analysis is the
// real one. Every fifth question of each shipped article (heldOut) is
// never used: those are the held-out questions of heldOutQuestions.
func synthBase(tb testing.TB, n int, seed uint64) *knowledge.Base {
	tb.Helper()
	shippedKB := shippedBase(tb)
	src := shippedKB.Articles["en"]
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var allQ []string
	known := make([][]string, len(src)) // the questions not held out
	for i, a := range src {
		for qi, q := range a.Questions {
			if !heldOut(qi) {
				known[i] = append(known[i], q)
			}
		}
		allQ = append(allQ, known[i]...)
	}
	arts := make([]*knowledge.Article, 0, n)
	for i := range n {
		base, baseQ := src[i%len(src)], known[i%len(src)]
		other := src[r.IntN(len(src))]
		extra := ""
		if len(other.Keywords) > 0 {
			extra = other.Keywords[r.IntN(len(other.Keywords))]
		}
		a := &knowledge.Article{
			ID:      fmt.Sprintf("synth-%05d-%s", i, base.ID),
			Lang:    "en",
			Kind:    knowledge.KindTopic,
			Title:   strings.TrimSpace(base.Title + " " + extra),
			Summary: base.Summary,
		}
		nq := 6 + r.IntN(9)
		for range nq {
			if len(baseQ) > 0 && r.IntN(4) != 0 {
				a.Questions = append(a.Questions, baseQ[r.IntN(len(baseQ))])
			} else {
				a.Questions = append(a.Questions, allQ[r.IntN(len(allQ))])
			}
		}
		a.Keywords = append(a.Keywords, base.Keywords...)
		if len(other.Keywords) > 0 {
			a.Keywords = append(a.Keywords, other.Keywords[:min(2, len(other.Keywords))]...)
		}
		secs := base.Sections()
		for range 1 + r.IntN(2) {
			osecs := src[r.IntN(len(src))].Sections()
			if len(osecs) > 0 {
				secs = append(secs, osecs[r.IntN(len(osecs))])
			}
		}
		r.Shuffle(len(secs), func(x, y int) { secs[x], secs[y] = secs[y], secs[x] })
		var body strings.Builder
		for _, s := range secs {
			body.WriteString(s.Text)
			body.WriteString("\n\n")
		}
		a.Body = body.String()
		arts = append(arts, a)
	}
	return &knowledge.Base{
		Source:    fmt.Sprintf("synthetic-%d", n),
		Articles:  map[string][]*knowledge.Article{"en": arts},
		Synonyms:  map[string][][]string{"en": shippedKB.Synonyms["en"]},
		Domain:    map[string][]string{"en": shippedKB.Domain["en"]},
		Unrelated: map[string][]string{"en": shippedKB.Unrelated["en"]},
	}
}

// heldOut tells whether a shipped article's question qi is held out of the
// synthetic knowledge.
func heldOut(qi int) bool { return qi%5 == 0 }

// heldOutQuestions are the shipped English questions that no synthetic
// article has, each with the shipped article it belongs to: a synthetic
// article made from that one answers it.
func heldOutQuestions(tb testing.TB) (qs, bases []string) {
	kb := shippedBase(tb)
	for _, a := range kb.Articles["en"] {
		for qi, q := range a.Questions {
			if heldOut(qi) {
				qs, bases = append(qs, q), append(bases, a.ID)
			}
		}
	}
	return qs, bases
}

func TestSynthBaseIsSeeded(t *testing.T) {
	a, b := synthBase(t, 50, 7), synthBase(t, 50, 7)
	c := synthBase(t, 50, 8)
	same := func(x, y *knowledge.Base) bool {
		for i, ax := range x.Articles["en"] {
			ay := y.Articles["en"][i]
			if ax.ID != ay.ID || ax.Title != ay.Title || ax.Body != ay.Body || strings.Join(ax.Questions, "|") != strings.Join(ay.Questions, "|") {
				return false
			}
		}
		return true
	}
	if !same(a, b) {
		t.Fatal("the same seed gave different bases")
	}
	if same(a, c) {
		t.Fatal("different seeds gave the same base")
	}
	ids := map[string]bool{}
	for _, art := range a.Articles["en"] {
		if ids[art.ID] {
			t.Fatalf("duplicate ID %s", art.ID)
		}
		ids[art.ID] = true
		if len(art.Questions) < 6 || art.Body == "" || art.Title == "" {
			t.Fatalf("%s: %d questions, body %d bytes", art.ID, len(art.Questions), len(art.Body))
		}
	}
}

// synthQuestions are the benchmark questions plus questions of the shipped
// articles, asked of a synthetic knowledge.
func synthQuestions(tb testing.TB) []string {
	kb := shippedBase(tb)
	qs := append([]string{}, benchQuestions...)
	for i, a := range kb.Articles["en"] {
		if len(a.Questions) > 0 {
			qs = append(qs, a.Questions[i%len(a.Questions)])
		}
	}
	return qs
}

func benchSynthBuild(b *testing.B, n int) {
	kb := synthBase(b, n, 1)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ix, err := build(kb, DefaultRank, "")
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		ix.Close()
		b.StartTimer()
	}
}

func benchSynthSearch(b *testing.B, n int) {
	kb := synthBase(b, n, 1)
	ix, err := build(kb, DefaultRank, "")
	if err != nil {
		b.Fatal(err)
	}
	defer ix.Close()
	qs := synthQuestions(b)
	benchSearchLatency(b, ix, qs)
}

// BenchmarkSynthBuild1k and 10k measure building the index over a
// synthetic knowledge of 1,000 and 10,000 English articles (no model
// cache: the ranker, when the size allows it, is trained).
func BenchmarkSynthBuild1k(b *testing.B)  { benchSynthBuild(b, 1000) }
func BenchmarkSynthBuild10k(b *testing.B) { benchSynthBuild(b, 10000) }

// BenchmarkSynthSearch1k and 10k measure one answer's search over the
// same knowledge, reporting p50 and p99.
func BenchmarkSynthSearch1k(b *testing.B)  { benchSynthSearch(b, 1000) }
func BenchmarkSynthSearch10k(b *testing.B) { benchSynthSearch(b, 10000) }

// BenchmarkSynthRSS1k and 10k build the index in a child process (this
// test binary, re-run as TestSynthRSSHelper) and report its peak resident
// memory (VmHWM), which a benchmark in this process could not isolate.
func BenchmarkSynthRSS1k(b *testing.B)  { benchSynthRSS(b, 1000) }
func BenchmarkSynthRSS10k(b *testing.B) { benchSynthRSS(b, 10000) }

func benchSynthRSS(b *testing.B, n int) {
	var hwm []float64
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSynthRSSHelper$", "-test.count=1")
		cmd.Env = append(os.Environ(), "IMPBOT_SYNTH_RSS="+strconv.Itoa(n))
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("helper: %v\n%s", err, out)
		}
		kb, ok := parseHWM(string(out))
		if !ok {
			b.Fatalf("helper printed no VmHWM:\n%s", out)
		}
		hwm = append(hwm, kb)
	}
	b.ReportMetric(hwm[len(hwm)-1]/1024, "peak-RSS-MB")
}

func parseHWM(out string) (float64, bool) {
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, "SYNTH-VmHWM-kB "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f, err == nil
		}
	}
	return 0, false
}

// TestSynthRSSHelper is the child process of BenchmarkSynthRSS: it runs
// only when IMPBOT_SYNTH_RSS is set, builds the index over that many
// synthetic articles, answers one question and prints VmHWM.
func TestSynthRSSHelper(t *testing.T) {
	n, err := strconv.Atoi(os.Getenv("IMPBOT_SYNTH_RSS"))
	if err != nil {
		t.Skip("helper process for BenchmarkSynthRSS")
	}
	ix, err := build(synthBase(t, n, 1), DefaultRank, "")
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if _, err := ix.Search(context.Background(), "en", benchQuestions[0], 6); err != nil {
		t.Fatal(err)
	}
	st, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(st), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			fmt.Printf("SYNTH-VmHWM-kB %s\n", strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return
		}
	}
	t.Fatal("no VmHWM in /proc/self/status")
}

// TestLargeLanguageIsRankedByBleveAlone builds a synthetic knowledge above
// DefaultRank.MaxRankerArticles: no ranker is trained, and the held-out
// questions (shipped phrasings no synthetic article has, about 500) still
// mostly get an article made from the one they belong to, while off-topic
// questions stay below the did-you-mean threshold. Everything is seeded,
// so the result is the same on every run; it moves only when the shipped
// knowledge does, and the bounds leave room for that (measured
// 2026-12-05: 66.8 % first, 76.3 % in the first three, then 65.5 % and
// 75.4 % once the knowledge gained more phrasings; the ranker of a
// 61-article synthetic knowledge: 81.9 % and 95.2 %).
//
// The previous version asked 20 of the synthetic articles' own questions
// and wanted 80 % answered by an article that has them: a quarter of
// those questions are drawn from other articles, so whether Bleve's best
// article happened to hold the stray copy decided the result, which
// flipped from 19 to 14 of 20 when story phrasings were added to the
// shipped knowledge (the generator draws from it).
func TestLargeLanguageIsRankedByBleveAlone(t *testing.T) {
	t.Parallel() // reads the shared index or builds its own; leaves CacheDir alone
	n := DefaultRank.MaxRankerArticles + 100
	kb := synthBase(t, n, 3)
	ix, err := Build(kb)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if ix.langs["en"].model != nil {
		t.Fatalf("a ranker was trained over %d articles (limit %d)", n, DefaultRank.MaxRankerArticles)
	}
	qs, bases := heldOutQuestions(t)
	if len(qs) < 300 {
		t.Fatalf("only %d held-out questions", len(qs))
	}
	first, three := 0, 0
	for i, q := range qs {
		r, err := ix.Search(context.Background(), "en", q, 3)
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		if top := r.Top(); top.ID != "" && (top.Confidence <= 0 || top.Confidence >= 1) {
			t.Errorf("%q: confidence %v out of (0, 1)", q, top.Confidence)
		}
		for k, h := range r.Hits {
			if baseOf(h.ID) == bases[i] {
				three++
				if k == 0 {
					first++
				}
				break
			}
		}
	}
	t.Logf("%d held-out questions: %.1f %% first, %.1f %% in the first three", len(qs), 100*float64(first)/float64(len(qs)), 100*float64(three)/float64(len(qs)))
	if first*100 < 60*len(qs) || three*100 < 70*len(qs) {
		t.Errorf("%d and %d of %d held-out questions answered from their article first and in the first three, want 60 %% and 70 %%", first, three, len(qs))
	}
	for _, q := range []string{"what is the best pizza in naples", "how to bake sourdough bread"} {
		r, err := ix.Search(context.Background(), "en", q, 5)
		if err != nil {
			t.Fatal(err)
		}
		if h := r.Top(); h.Confidence >= 0.30 {
			t.Errorf("%q: confidence %.2f for %s, want < 0.30", q, h.Confidence, h.ID)
		}
	}
}

// baseOf is the shipped article a synthetic ID was made from.
func baseOf(id string) string {
	if len(id) > len("synth-00000-") {
		return id[len("synth-00000-"):]
	}
	return id
}
