package index

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/impbot/impbot/knowledge"
)

// TestRankerLearnsFromTheKnowledge: the ranker is trained from the
// knowledge it is built with, so a knowledge change (a reload) changes what
// it knows: without its phrasings an article is not found by them.
func TestRankerLearnsFromTheKnowledge(t *testing.T) {
	t.Parallel() // it reads no cache
	b := shippedBase(t)
	const target = "spousal-owp-workers"
	q := b.Article("en", target).Questions[0]
	// English only: the property is per language, and training French too
	// would double the cost (under -race) without testing anything more.
	onlyEn := func(base *knowledge.Base) *knowledge.Base {
		for l := range base.Articles {
			if l != "en" {
				delete(base.Articles, l)
			}
		}
		return base
	}
	// Every article keeps two of its phrasings (training costs in
	// proportion to them, and under -race it is most of this test): the
	// article under test keeps all of them, or none.
	all := func(string, int) bool { return true }
	with := onlyEn(b.Subset(func(_, id string, i int) bool { return id == target || i < 2 }, all))
	without := onlyEn(b.Subset(func(_, id string, i int) bool { return id != target && i < 2 }, all))
	// Both models are trained (never read from the cache), at once.
	var probs [2]float64
	var errs [2]error
	var wg sync.WaitGroup
	for i, base := range []*knowledge.Base{with, without} {
		wg.Go(func() {
			ix, err := build(base, DefaultRank, "")
			if err != nil {
				errs[i] = err
				return
			}
			defer ix.Close()
			if len(ix.langs) != 1 {
				errs[i] = fmt.Errorf("built %d languages, want English only", len(ix.langs))
				return
			}
			li := ix.langs["en"]
			p := li.model.predict(li.features(li.parse(q, true), &li.rank), nil)
			probs[i] = float64(p[li.model.classOf[target]])
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if with, wo := probs[0], probs[1]; with < 0.5 || wo >= with/2 {
		t.Fatalf("P(%s | %q) = %.3f trained with its phrasings, %.3f without", target, q, with, wo)
	}
	t.Logf("P(%s | %q) = %.3f trained with its phrasings, %.3f without", target, q, probs[0], probs[1])
}

func TestModelCacheRoundTrip(t *testing.T) {
	t.Parallel() // reads the shared index or builds its own; leaves CacheDir alone
	b := shippedBase(t)
	ix := shipped(t)
	m := ix.langs["fr"].model
	var buf bytes.Buffer
	if err := writeModel(&buf, m); err != nil {
		t.Fatal(err)
	}
	got, err := readModel(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if got.nc != m.nc || len(got.feat) != len(m.feat) || len(got.w) != len(m.w) || got.classes[3] != m.classes[3] {
		t.Fatalf("round trip changed the model")
	}
	for k, i := range m.feat {
		j, ok := got.feat[k]
		if !ok || got.w[int(j)*m.nc+1] != m.w[int(i)*m.nc+1] {
			t.Fatalf("feature %x lost or changed", k)
		}
	}
	if _, err := readModel(bytes.NewReader([]byte{1, 2, 3})); err == nil {
		t.Error("a truncated model was accepted")
	}
	// A changed knowledge gets another cache key.
	k1 := modelKey("fr", b.Articles["fr"], b.Synonyms["fr"], b.Domain["fr"], b.Unrelated["fr"], DefaultRank)
	k2 := modelKey("fr", b.Articles["fr"], b.Synonyms["fr"], b.Domain["fr"], append(b.Unrelated["fr"][:1:1], "autre chose"), DefaultRank)
	if k1 == k2 {
		t.Error("the cache key ignores the unrelated examples")
	}
	if _, err := ix.Search(context.Background(), "fr", "permis", 3); err != nil {
		t.Fatal(err)
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"work permit":                   "work permit",
		"w\u200bork p\u200dermit\u2066": "work permit",
		"\u0440\u0435rmit":              "permit", // Cyrillic р, е
		"ｗｏｒｋ　ｐｅｒｍｉｔ":                   "work permit",
		"pgwp 🇨🇦🍁?":                     "pgwp    ?",
		"работа":                        "работа", // a Russian word stays Russian
	} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNumbersAloneAreNoQuestion(t *testing.T) {
	ix := shipped(t)
	for _, q := range []string{"1", "2", "2026", "35 60"} {
		r, err := ix.Search(context.Background(), "en", q, 3)
		if err != nil || len(r.Hits) != 0 {
			t.Errorf("%q: %v hits, %v", q, len(r.Hits), err)
		}
	}
	if r, _ := ix.Search(context.Background(), "fr", "pvt 35 ans", 3); r.Top().ID == "" {
		t.Error("a question with a number and words found nothing")
	}
}

// TestPruneModelsKeepsTheMostRecentlyUsed: the cache keeps only the newest
// models, so a knowledge folder edited often does not fill the disk.
func TestPruneModelsKeepsTheMostRecentlyUsed(t *testing.T) {
	dir := t.TempDir()
	base := time.Now().Add(-time.Hour)
	for i := range 12 {
		p := filepath.Join(dir, fmt.Sprintf("ranker-%02d.bin", i))
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		at := base.Add(time.Duration(i) * time.Minute)
		if err := os.Chtimes(p, at, at); err != nil {
			t.Fatal(err)
		}
	}
	other := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(other, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	pruneModels(dir, 8)
	left, _ := filepath.Glob(filepath.Join(dir, "ranker-*.bin"))
	if len(left) != 8 {
		t.Fatalf("%d models left, want 8: %v", len(left), left)
	}
	for i := range 4 {
		if _, err := os.Stat(filepath.Join(dir, fmt.Sprintf("ranker-%02d.bin", i))); !os.IsNotExist(err) {
			t.Fatalf("oldest model %d kept (err %v)", i, err)
		}
	}
	if _, err := os.Stat(other); err != nil {
		t.Fatalf("a file that is not a model was touched: %v", err)
	}
}
