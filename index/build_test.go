package index

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/index/scorch"
	bindex "github.com/blevesearch/bleve_index_api"

	"github.com/impbot/impbot/knowledge"
)

// articleTexts lists every text of the articles that the build analyses.
func articleTexts(arts []*knowledge.Article) []string {
	var out []string
	for _, a := range arts {
		out = append(out, a.Title, a.Summary, a.Body, strings.Join(a.Keywords, "\n"))
		out = append(out, a.Questions...)
		for _, s := range a.Sections() {
			out = append(out, s.Text)
		}
	}
	return out
}

// TestBuildAnalyzerIsBleves checks that the build's analyser (accent
// folding skipped for ASCII text, token filters looked up per distinct
// token) gives exactly the tokens of Bleve's analyser: over every text of
// the shipped knowledge in both languages, and over texts chosen for
// their accents, apostrophes, possessives, elisions and odd bytes. Under
// -race (raceBuild) it checks every fifth text of the knowledge.
func TestBuildAnalyzerIsBleves(t *testing.T) {
	t.Parallel() // reads the shared index or builds its own; leaves CacheDir alone
	ix := shipped(t)
	odd := []string{
		"", " ", "Canada's employer's LMIA’s", "l'état d’un permis à Montréal", "ÉTUDIANT étudiante œuvre cœur",
		"don't won’t can't", "naïve façade señor Zürich", "🎓💼 work", "\xff\xfe bad bytes \x00", "'s 's ’s",
		"c'est qu'il jusqu'à lorsqu'on", "1,000 $179 3.5 2026-12-05", "IMP-IEC C11/C16 A70", "ﬁnance ﬂight", "İstanbul ǅ",
	}
	for _, lang := range []string{"en", "fr"} {
		li := ix.langs[lang]
		da, ok := li.analyzer.(*analysis.DefaultAnalyzer)
		if !ok {
			t.Fatalf("%s: analyzer %T", lang, li.analyzer)
		}
		ba := newBuildAnalyzer(da)
		texts := articleTexts(ix.Base().Articles[lang])
		if raceBuild {
			// Under -race every 25th text of the knowledge (and every odd
			// one): the analyser has no concurrency of its own for the
			// detector to watch, so the race run only needs to pass through
			// it; every text is checked without -race (`go test ./index`,
			// its own CI step).
			texts = everyNth(texts, 25)
		}
		texts = append(texts, odd...)
		for i, s := range texts {
			if i%2 == 1 {
				// Half of the texts first meet the cache through terms.
				ba.terms(s)
			}
			// Twice: the second pass reads every token from the cache.
			for pass := range 2 {
				gotToks, gotTerms := ba.analyze(s)
				wantToks := li.analyzer.Analyze([]byte(s))
				if len(gotToks) != len(wantToks) {
					t.Fatalf("%s pass %d %q: %d tokens, want %d", lang, pass, clip(s, 80), len(gotToks), len(wantToks))
				}
				for i := range wantToks {
					if string(gotToks[i].Term) != string(wantToks[i].Term) {
						t.Fatalf("%s pass %d %q: token %d %q, want %q", lang, pass, clip(s, 80), i, gotToks[i].Term, wantToks[i].Term)
					}
				}
				want := li.analyze(s)
				if !slices.Equal(gotTerms, want) {
					t.Fatalf("%s pass %d %q: terms %q, want %q", lang, pass, clip(s, 80), gotTerms, want)
				}
				if terms := ba.terms(s); !slices.Equal(terms, want) {
					t.Fatalf("%s pass %d %q: terms without tokens %q, want %q", lang, pass, clip(s, 80), terms, want)
				}
			}
		}
	}
}

// refDoc is how the articles were indexed before the build analysed them
// itself: a struct mapped by Bleve's index mapping.
type refDoc struct {
	Title     string `json:"title"`
	Questions string `json:"questions"`
	Keywords  string `json:"keywords"`
	Summary   string `json:"summary"`
	Body      string `json:"body"`
	Kind      string `json:"kind"`
}

// TestBuiltIndexIsBleves checks that the index the build makes from its
// own analysis, in bounded batches, holds what Bleve makes of the same
// articles mapped and analysed by itself in one batch: the same documents,
// and for each field the same terms with the same document counts and the
// same total length (so the same BM25 scores).
//
// Not in parallel: it sets maxBatchDocs, which every build reads. It
// builds the Bleve index itself (buildLangFresh), never opening one from
// the cache, which would not test the batches.
func TestBuiltIndexIsBleves(t *testing.T) {
	kb := shippedBase(t)
	saved := maxBatchDocs
	t.Cleanup(func() { maxBatchDocs = saved })
	maxBatchDocs = 500 // several batches, hence several segments
	langs := []string{"en", "fr"}
	if raceBuild {
		// English only under -race: it runs alone (see above), and the
		// build's goroutines are the same in each language; both run
		// without -race (`go test ./index`, .ci/run's step).
		langs = langs[:1]
	}
	for _, lang := range langs {
		arts := kb.Articles[lang]
		im, aname, err := langMapping(lang)
		if err != nil {
			t.Fatal(err)
		}
		// The build's own indexing (no ranker: it does not touch Bleve).
		li, err := buildLangFresh(lang, arts, kb.Synonyms[lang], kb.Domain[lang], kb.Unrelated[lang], DefaultRank, im, aname)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := bleve.NewUsing("", li.bi.Mapping(), scorch.Name, scorch.Name, nil)
		if err != nil {
			t.Fatal(err)
		}
		b := ref.NewBatch()
		for _, a := range arts {
			d := refDoc{Title: a.Title, Keywords: strings.Join(a.Keywords, "\n"), Summary: a.Summary, Body: a.Body, Kind: a.Kind}
			if err := b.Index(a.ID, d); err != nil {
				t.Fatal(err)
			}
			for qi, q := range a.Questions {
				if err := b.Index(fmt.Sprintf("%s#%d", a.ID, qi), refDoc{Questions: q, Kind: a.Kind}); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := ref.Batch(b); err != nil {
			t.Fatal(err)
		}
		got, want := indexFigures(t, li.bi), indexFigures(t, ref)
		for fi, f := range fieldBoosts {
			// Bleve's BM25 figure of one segment, which the index
			// computes over its several segments.
			card := want["cardinality "+f.name]
			if card != want["terms "+f.name] {
				t.Errorf("%s %s: Bleve's cardinality %d is not the distinct terms %d", lang, f.name, card, want["terms "+f.name])
			}
			if avg := math.Ceil(float64(card) / float64(want["docs"])); li.fields[fi].avgLen != avg {
				t.Errorf("%s %s: average length %v, want %v", lang, f.name, li.fields[fi].avgLen, avg)
			}
		}
		for k := range want {
			if strings.HasPrefix(k, "cardinality ") {
				delete(got, k) // grows with the segments
				delete(want, k)
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d figures, want %d", lang, len(got), len(want))
		}
		for _, k := range slices.Sorted(maps.Keys(want)) {
			if got[k] != want[k] {
				t.Errorf("%s: %s = %d, want %d", lang, k, got[k], want[k])
			}
		}
		li.reader.Close()
		li.bi.Close()
		ref.Close()
	}
}

// indexFigures reads what BM25 scoring depends on from a Bleve index: the
// document count, each field's distinct terms and Bleve's cardinality
// figure, and each term's document count in it.
func indexFigures(t *testing.T, bi bleve.Index) map[string]uint64 {
	t.Helper()
	adv, err := bi.Advanced()
	if err != nil {
		t.Fatal(err)
	}
	r, err := adv.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	out := map[string]uint64{}
	if out["docs"], err = r.DocCount(); err != nil {
		t.Fatal(err)
	}
	for _, f := range append(queriedFields(), "body", "kind") {
		card, err := r.(bindex.BM25Reader).FieldCardinality(f)
		if err != nil {
			t.Fatal(err)
		}
		out["cardinality "+f] = uint64(card)
		d, err := r.FieldDict(f)
		if err != nil {
			t.Fatal(err)
		}
		for {
			e, err := d.Next()
			if err != nil {
				t.Fatal(err)
			}
			if e == nil {
				break
			}
			out[f+" "+e.Term] = e.Count
			out["terms "+f]++
		}
		d.Close()
	}
	return out
}

// TestBuildWordsAreWords checks that the build's word count (ASCII text
// read without building its words) counts the words that words splits.
func TestBuildWordsAreWords(t *testing.T) {
	t.Parallel() // reads the shared index or builds its own; leaves CacheDir alone
	kb := shippedBase(t)
	texts := append(articleTexts(kb.Articles["en"]), articleTexts(kb.Articles["fr"])...)
	texts = append(texts, "", "  ", "A-B c_d E.F 12ab", "Don't STOP", "naïve Zürich", "\xff bad", "x")
	w := &buildWorker{vocab: map[string]*int{}}
	want := map[string]int{}
	for _, s := range texts {
		w.words(s)
		for _, v := range words(s) {
			want[v]++
		}
	}
	if len(w.vocab) != len(want) {
		t.Errorf("%d words, want %d", len(w.vocab), len(want))
	}
	for v, n := range want {
		if got := w.vocab[v]; got == nil || *got != n {
			t.Errorf("%q: counted %v, want %d", v, got, n)
		}
	}
}

// TestKeepBestIsSortAndCut checks the search's bounded heap of candidates
// against sorting every scored document and keeping the first k, over
// random scores with many ties.
func TestKeepBestIsSortAndCut(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	order := func(a, b scoredDoc) int {
		if a.score != b.score {
			return cmp.Compare(b.score, a.score)
		}
		return cmp.Compare(a.art, b.art)
	}
	for round := range 200 {
		n, k := r.IntN(300), r.IntN(50)
		all := make([]scoredDoc, n)
		for i := range all {
			all[i] = scoredDoc{art: int32(r.IntN(1000)), score: float64(r.IntN(20))}
		}
		var got []scoredDoc
		for _, d := range all {
			got = keepBest(got, d, k, order)
		}
		slices.SortFunc(got, order)
		want := slices.Clone(all)
		slices.SortFunc(want, order)
		want = want[:min(k, n)]
		if !slices.Equal(got, want) {
			t.Fatalf("round %d (n %d, k %d): kept %v, want %v", round, n, k, got, want)
		}
	}
}
