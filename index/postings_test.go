package index

import (
	"context"
	"sync"
	"testing"
)

// forgetPostings drops every postings list read so far, so that the next
// search reads them from Bleve again.
func (li *langIndex) forgetPostings() {
	for _, tf := range li.fieldDF {
		for fi := range tf.post {
			tf.post[fi].Store(nil)
		}
	}
}

// keptPostings returns the postings lists read so far.
func (li *langIndex) keptPostings() map[*postings]bool {
	out := map[*postings]bool{}
	for _, tf := range li.fieldDF {
		for fi := range tf.post {
			if p := tf.post[fi].Load(); p != nil {
				out[p] = true
			}
		}
	}
	return out
}

// TestPostingsAreReadOnceAndAnswerAlike checks the postings kept from
// Bleve: searches racing to read them on a fresh index all answer alike;
// searching again reads nothing more (the same lists are kept) and answers
// the same; and every question searched with nothing kept (everything read
// from Bleve's reader for that one search) answers the same too.
func TestPostingsAreReadOnceAndAnswerAlike(t *testing.T) {
	// In parallel again (2026-12-06): on branch tests7, beside
	// TestTermAtATimeScoresLikeBleveDisjunction, that test failed in 3 of
	// 6 runs (scores differing past the top hit), cause not confirmed;
	// tests then still changed CacheDir while others built. None does now
	// (the cache tests pass their own folders), and the two in parallel
	// passed 14 runs without -race and 8 with it.
	t.Parallel()
	kb := shippedBase(t)
	ix, err := Build(kb)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	ctx := context.Background()
	for _, lang := range []string{"en", "fr"} {
		li := ix.langs[lang]
		if n := len(li.keptPostings()); n != 0 {
			t.Fatalf("%s: %d postings lists before any search", lang, n)
		}
		qs := devQuestions(t, lang)
		if raceBuild {
			// Under -race every third question: the racing searches still
			// read the same postings lists at once (what the detector
			// watches), on fewer questions; all of them are checked
			// without -race (`go test ./index`, its own CI step).
			qs = everyNth(qs, 3)
		}
		search := func(q string) Result {
			r, err := ix.Search(ctx, lang, q, 6)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		const racers = 4
		got := make([][]Result, racers)
		var wg sync.WaitGroup
		for g := range racers {
			wg.Go(func() {
				for _, q := range qs {
					r, err := ix.Search(ctx, lang, q, 6)
					if err != nil {
						t.Error(err)
						return
					}
					got[g] = append(got[g], r)
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		kept := li.keptPostings()
		if len(kept) < 50 {
			t.Fatalf("%s: only %d postings lists kept after %d questions", lang, len(kept), len(qs))
		}
		withHits := 0
		for i, q := range qs {
			for g := 1; g < racers; g++ {
				if !sameResult(got[0][i], got[g][i]) {
					t.Fatalf("%s %q: racing searches answer differently:\n %+v\n %+v", lang, q, got[0][i].Hits, got[g][i].Hits)
				}
			}
			if r := search(q); !sameResult(got[0][i], r) {
				t.Fatalf("%s %q: the second search answers differently:\n %+v\n %+v", lang, q, got[0][i].Hits, r.Hits)
			}
			if len(got[0][i].Hits) > 0 && got[0][i].Hits[0].Score > 0 {
				withHits++
			}
		}
		if again := li.keptPostings(); len(again) != len(kept) {
			t.Fatalf("%s: searching the same questions again read postings again: %d lists, then %d", lang, len(kept), len(again))
		} else {
			for p := range again {
				if !kept[p] {
					t.Fatalf("%s: a postings list was replaced by a second read", lang)
				}
			}
		}
		for i, q := range qs {
			li.forgetPostings()
			if r := search(q); !sameResult(got[0][i], r) {
				t.Fatalf("%s %q: read fresh from Bleve, answers differently:\n %+v\n %+v", lang, q, got[0][i].Hits, r.Hits)
			}
		}
		if withHits < len(qs)/2 {
			t.Fatalf("%s: only %d of %d questions have Bleve hits", lang, withHits, len(qs))
		}
	}
}

// everyNth is qs[0], qs[n], qs[2n]…: the sample a test checks under -race.
func everyNth[T any](qs []T, n int) []T {
	var out []T
	for i := 0; i < len(qs); i += n {
		out = append(out, qs[i])
	}
	return out
}
