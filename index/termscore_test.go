package index

import (
	"bufio"
	"context"
	"encoding/json"
	"math"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
)

// disjunctionSearch is the search that bleveSearch replaced: one Bleve
// disjunction of boosted term queries over the queried fields. It is kept
// here as the reference the term-at-a-time scoring must agree with.
func (li *langIndex) disjunctionSearch(ctx context.Context, cs []concept) ([]bleveHit, error) {
	bterms, weights := li.bleveTerms(cs)
	if len(bterms) == 0 {
		return nil, nil
	}
	var qs []query.Query
	for i, t := range bterms {
		for _, f := range fieldBoosts {
			tq := bleve.NewTermQuery(t)
			tq.SetField(f.name)
			tq.SetBoost(f.boost * weights[i])
			qs = append(qs, tq)
		}
	}
	req := bleve.NewSearchRequestOptions(bleve.NewDisjunctionQuery(qs...), candidates, 0, false)
	sr, err := li.bi.SearchInContext(ctx, req)
	if err != nil {
		return nil, err
	}
	var out []bleveHit
	seen := map[string]bool{}
	for _, h := range sr.Hits {
		id, _, _ := strings.Cut(h.ID, "#")
		if li.docs[id] == nil || seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, bleveHit{id: id, score: h.Score})
		if len(out) == maxBleveArticles {
			break
		}
	}
	return out, nil
}

// allQuestions returns the knowledge's own questions, titles and keywords
// and the development sets' questions of lang.
func allQuestions(t testing.TB, ix *Index, lang string) []string {
	t.Helper()
	var qs []string
	for _, a := range ix.Base().Articles[lang] {
		qs = append(qs, a.Title)
		qs = append(qs, a.Questions...)
		qs = append(qs, a.Keywords...)
	}
	return append(qs, devQuestions(t, lang)...)
}

// devQuestions returns the development sets' questions of lang.
func devQuestions(t testing.TB, lang string) []string {
	t.Helper()
	var qs []string
	files := map[string][]string{
		"en": {"dev.jsonl", "questions-extra.jsonl"},
		"fr": {"dev-fr.jsonl"},
	}[lang]
	for _, f := range files {
		fh, err := os.Open("../cmd/impbot/testdata/" + f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			var l struct{ Q string }
			if strings.TrimSpace(sc.Text()) == "" {
				continue
			}
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Fatal(err)
			}
			qs = append(qs, l.Q)
		}
		fh.Close()
	}
	return qs
}

// TestTermAtATimeScoresLikeBleveDisjunction checks that the term-at-a-time
// scoring gives Bleve's own scores and candidates for every question of
// the knowledge and of the development sets, in both languages. Under -race
// (raceBuild) it checks every tenth question; all of them are checked
// without -race (`go test ./index`, its own CI step).
func TestTermAtATimeScoresLikeBleveDisjunction(t *testing.T) {
	t.Parallel() // it only reads the shared index
	ix := shipped(t)
	ctx := context.Background()
	for _, lang := range []string{"en", "fr"} {
		li := ix.langs[lang]
		qs := allQuestions(t, ix, lang)
		if len(qs) < 100 {
			t.Fatalf("%s: only %d questions", lang, len(qs))
		}
		if raceBuild {
			var sample []string
			for i := 0; i < len(qs); i += 10 {
				sample = append(sample, qs[i])
			}
			qs = sample
		}
		nonEmpty, ties := 0, 0
		for _, q := range qs {
			p := li.parse(q, true)
			want, err := li.disjunctionSearch(ctx, p.concepts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := li.bleveSearch(ctx, p.concepts)
			if err != nil {
				t.Fatal(err)
			}
			if len(want) > 0 {
				nonEmpty++
			}
			same, tie := sameHits(want, got)
			if !same {
				t.Errorf("%s %q:\n disjunction %v\n term-at-a-time %v", lang, q, want, got)
			}
			if tie {
				ties++
			}
		}
		t.Logf("%s: %d questions, %d differ only among equal scores at the cut", lang, len(qs), ties)
		if nonEmpty < len(qs)*9/10 {
			t.Errorf("%s: only %d of %d questions found anything", lang, nonEmpty, len(qs))
		}
	}
}

// sameHits compares two candidate lists: the same articles with the same
// scores (to rounding), in the same order except among equal scores. Bleve
// keeps its best documents and breaks ties among them by the order the
// documents were indexed in (which varies from build to build); the
// term-at-a-time search breaks them by article ID. So at the cut (the last
// score of either list) the two may keep different articles: only the
// articles scoring above it must be the same.
func sameHits(a, b []bleveHit) (same, tieAtCut bool) {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b), false
	}
	const eps = 1e-9
	cut := max(a[len(a)-1].score, b[len(b)-1].score)
	above := func(hs []bleveHit) []bleveHit {
		var out []bleveHit
		for _, h := range hs {
			if h.score > cut*(1+eps) {
				out = append(out, h)
			}
		}
		sort.SliceStable(out, func(i, j int) bool {
			if math.Abs(out[i].score-out[j].score) > eps*out[i].score {
				return out[i].score > out[j].score
			}
			return out[i].id < out[j].id
		})
		return out
	}
	aa, ba := above(a), above(b)
	if len(aa) != len(ba) {
		return false, false
	}
	for i := range aa {
		if aa[i].id != ba[i].id || math.Abs(aa[i].score-ba[i].score) > eps*max(aa[i].score, 1) {
			return false, false
		}
	}
	tieAtCut = len(a) != len(b)
	for i := range a {
		if tieAtCut || a[i].id != b[i].id {
			tieAtCut = true
			break
		}
	}
	return true, tieAtCut
}

func TestHasWordsOnlyIn(t *testing.T) {
	ix := shipped(t)
	cases := []struct {
		lang, other, text string
		want              bool
	}{
		{"fr", "en", "pvt 35 ans", true},                     // "ans" is French only
		{"en", "fr", "quel permis pour mon conjoint", false}, // no English-only word
		{"en", "fr", "open work permit for my spouse", true},
		{"fr", "en", "best pizza in town", false},
		{"fr", "en", "", false},
		{"de", "en", "permit", false}, // no such language
	}
	for _, c := range cases {
		if got := ix.HasWordsOnlyIn(c.lang, c.other, c.text); got != c.want {
			t.Errorf("HasWordsOnlyIn(%s, %s, %q) = %v, want %v", c.lang, c.other, c.text, got, c.want)
		}
	}
}

// TestArticleTermsAreTheWholeText checks that an article's terms, gathered
// from its keywords, summary, sections, title and questions analyzed
// separately, are the terms of all its text analyzed at once.
func TestArticleTermsAreTheWholeText(t *testing.T) {
	t.Parallel() // reads the shared index or builds its own; leaves CacheDir alone
	ix := shipped(t)
	for lang, li := range ix.langs {
		for _, a := range ix.Base().Articles[lang] {
			want := map[int32]bool{}
			text := strings.Join(append([]string{strings.Join(a.Keywords, "\n"), a.Summary, a.Body, a.Title}, a.Questions...), "\n")
			for _, term := range li.analyze(text) {
				id, ok := li.termIDs[term]
				if !ok {
					t.Fatalf("%s %s: term %q has no ID", lang, a.ID, term)
				}
				want[id] = true
			}
			got := li.docs[a.ID].termSet
			if len(got) != len(want) {
				t.Errorf("%s %s: %d terms, want %d", lang, a.ID, len(got), len(want))
				continue
			}
			for _, id := range got {
				if !want[id] {
					t.Errorf("%s %s: term ID %d not in its text", lang, a.ID, id)
				}
			}
		}
	}
}
