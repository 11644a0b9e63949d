package index

import (
	"context"
	"testing"
)

// TestTwoBuildsAnswerIdentically builds the index three times (a freshly
// trained ranker, the same ranker read back from the cache, and a fresh
// one again) and checks that every development question gets exactly the
// same hits, scores and confidences from all three: answers must not
// depend on the order Bleve indexed the documents in, on map iteration
// order, or on where the ranker came from.
//
// Under -race (raceBuild) it checks the same on a sample: the knowledge
// with one question in eight per article (training is the build's cost),
// English only, every tenth development question and two epochs of
// training. The whole check runs without -race
// (`go test ./index`, its own CI step).
func TestTwoBuildsAnswerIdentically(t *testing.T) {
	t.Parallel() // its own cache folders
	kb := shippedBase(t)
	every, minQuestions := 1, 400
	cfg := DefaultRank
	langs := []string{"en", "fr"}
	if raceBuild {
		kb = kb.Subset(func(_, _ string, i int) bool { return i%8 == 0 }, func(_ string, i int) bool { return i%8 == 0 })
		// English only: the property is the same in each language, and
		// the race run only needs the builds' goroutines once.
		delete(kb.Articles, "fr")
		langs = []string{"en"}
		every, minQuestions = 10, 20
		// Two epochs of training instead of six: the ranker is trained
		// twice here, and determinism does not depend on how long.
		cfg.Epochs = 2
	}
	var ixs []*Index
	cache := t.TempDir()
	for i, dir := range []string{cache, cache, t.TempDir()} {
		ix, err := build(kb, cfg, dir)
		if err != nil {
			t.Fatalf("build %d: %v", i, err)
		}
		t.Cleanup(func() { ix.Close() })
		ixs = append(ixs, ix)
	}
	if ixs[1].langs["en"].wordCache != nil {
		t.Fatal("the second build trained its ranker instead of reading it from the cache")
	}
	if ixs[2].langs["en"].wordCache == nil {
		t.Fatal("the third build did not train its ranker")
	}
	ctx := context.Background()
	n := 0
	for _, lang := range langs {
		for k, q := range devQuestions(t, lang) {
			if k%every != 0 {
				continue
			}
			var first Result
			for i, ix := range ixs {
				r, err := ix.Search(ctx, lang, q, 6)
				if err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					first = r
					continue
				}
				if !sameResult(first, r) {
					t.Errorf("%s %q: build %d answers differently:\n %+v\n %+v", lang, q, i, first.Hits, r.Hits)
				}
			}
			n++
		}
	}
	if n < minQuestions {
		t.Fatalf("only %d questions", n)
	}
}

func sameResult(a, b Result) bool {
	if len(a.Hits) != len(b.Hits) || a.None != b.None || a.Known != b.Known {
		return false
	}
	for i := range a.Hits {
		if a.Hits[i] != b.Hits[i] {
			return false
		}
	}
	return true
}
