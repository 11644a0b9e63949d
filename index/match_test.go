package index

import (
	"math"
	"testing"
)

// matchByQuestion is the article match that match replaced: each of the
// article's questions compared with every present concept in turn. It is
// kept here as the reference the bitset version must agree with exactly.
func (li *langIndex) matchByQuestion(cs []concept, id string) (coverage, qmatch float64) {
	ds := li.docs[id]
	if ds == nil {
		return 0, 0
	}
	denom, got := 0.0, 0.0
	var present []int
	for ci, c := range cs {
		if li.known(c) {
			denom += c.weight
		} else {
			denom += unknownFactor * c.weight
		}
		if m := conceptMatch(ds.termSet, &c); m > 0 {
			got += c.weight * m
			present = append(present, ci)
		}
	}
	if denom == 0 {
		return 0, 0
	}
	coverage = got / denom
	for qi, q := range ds.questionSets {
		inter, qw := 0.0, ds.qweights[qi]
		if qw == 0 {
			continue
		}
		for _, ci := range present {
			inter += cs[ci].weight * conceptMatch(q, &cs[ci])
		}
		qmatch = max(qmatch, min(1, 2*inter/(denom+qw)))
	}
	return coverage, qmatch
}

// TestMatchAgreesWithQuestionByQuestion checks that the bitset match gives
// bit for bit the coverage and question match of the question-by-question
// reference, for every third question of the knowledge and of the
// development sets (about 1,000 per language; all of them take half a
// minute under the race detector) against every article, in both
// languages.
func TestMatchAgreesWithQuestionByQuestion(t *testing.T) {
	t.Parallel() // reads the shared index or builds its own; leaves CacheDir alone
	ix := shipped(t)
	for _, lang := range []string{"en", "fr"} {
		li := ix.langs[lang]
		qs := allQuestions(t, ix, lang)
		if len(qs) < 100 {
			t.Fatalf("%s: only %d questions", lang, len(qs))
		}
		// Every third question; under -race (raceBuild) every fifteenth:
		// the whole comparison runs in the CI step without -race.
		step := 3
		if raceBuild {
			step = 15
		}
		matched, synonym := 0, 0
		for qi, q := range qs {
			if qi%step != 0 {
				continue
			}
			p := li.parse(q, true)
			for _, c := range p.concepts {
				if len(c.ids) > 1 {
					synonym++
				}
			}
			for _, id := range li.artIDs {
				wc, wq := li.matchByQuestion(p.concepts, id)
				gc, gq := li.match(p.concepts, id)
				if math.Float64bits(wc) != math.Float64bits(gc) || math.Float64bits(wq) != math.Float64bits(gq) {
					t.Fatalf("%s %q vs %s: match = %v, %v; question by question %v, %v", lang, q, id, gc, gq, wc, wq)
				}
				if gq > 0 {
					matched++
				}
			}
		}
		// The comparison means something only if many pairs match and
		// synonyms are involved.
		if matched < len(qs)/step || synonym == 0 {
			t.Fatalf("%s: only %d matching pairs, %d concepts with synonyms", lang, matched, synonym)
		}
	}
	if got, _ := ix.langs["en"].match(nil, "no-such-article"); got != 0 {
		t.Fatalf("match of an unknown article = %v", got)
	}
}
