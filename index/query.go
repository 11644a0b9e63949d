package index

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/impbot/impbot/index/spell"
)

// Correction is one word the typo corrector replaced.
type Correction struct {
	From, To string
}

// parsed is a text after normalisation, typo correction and analysis.
type parsed struct {
	norm        string
	words       []string // lower-case, accent-folded words after correction
	corrections []Correction
	concepts    []concept
	stems       []string // analyzed terms of the content words, in order
	groups      []int    // synonym groups named in the text
	content     []string // words that are not stop words (for character n-grams)
	focusFrom   int      // stems[focusFrom:] are the asking sentence's (focusStart)
}

// isCode reports whether a (lower-case) word is an exemption or regulation
// code (C10, T36, A75, R204…), which are the domain's own words: a letter
// and two or three digits (what the regular expression ^[a-z][0-9]{2,3}$
// matches, without running one for every word).
func isCode(w string) bool {
	if len(w) < 3 || len(w) > 4 || w[0] < 'a' || w[0] > 'z' {
		return false
	}
	for i := 1; i < len(w); i++ {
		if w[i] < '0' || w[i] > '9' {
			return false
		}
	}
	return true
}

// wordTerms analyzes one word, from the cache built with the index when it
// is a word of the knowledge.
func (li *langIndex) wordTerms(w string) []string {
	if ts, ok := li.wordCache[w]; ok {
		return ts
	}
	// Words of the knowledge are cached as they are met (a bounded set);
	// other words are analyzed each time.
	if _, known := li.vocab[w]; known {
		if ts, ok := li.lazyTerms.Load(w); ok {
			return ts.([]string)
		}
		ts := li.analyze(w)
		li.lazyTerms.Store(w, ts)
		return ts
	}
	return li.analyze(w)
}

// parse normalises text, corrects typos (when correct is set: user text, not
// the knowledge's own) and analyzes it into concepts and features.
func (li *langIndex) parse(text string, correct bool) *parsed {
	p := &parsed{norm: Normalize(li.emojiWords(text))}
	ws := words(p.norm)
	corrected := make([]bool, len(ws))
	// Each word's analyzed terms, looked up once (again for a corrected
	// word).
	terms := make([][]string, len(ws))
	for i, w := range ws {
		ts := li.wordTerms(w)
		terms[i] = ts
		if len(ts) == 0 {
			continue
		}
		p.content = append(p.content, w)
		// A word the knowledge does not know is corrected, and so is one
		// it knows only from a phrasing or two that is no real word (the
		// typo phrasings: "holliday").
		if !correct || utf8.RuneCountInString(w) < spell.MinLen || (li.allKnown(ts) && li.vocab[w] > rareWord) {
			continue
		}
		fix, ok := li.corrector.Correct(w, li.frequent)
		if ok && li.vocab[fix] <= rareWord {
			// Corrected to another typo of the knowledge's own: go on to
			// the common word when there is one.
			if fix2, ok2 := li.corrector.Correct(fix, li.frequent); ok2 && li.vocab[fix2] > li.vocab[fix] {
				fix = fix2
			}
		}
		if ok && li.vocab[fix] > li.vocab[w] {
			p.corrections = append(p.corrections, Correction{From: w, To: fix})
			ws[i] = fix
			terms[i] = li.wordTerms(fix)
			corrected[i] = true
			p.content[len(p.content)-1] = fix
		}
	}
	p.words = ws
	fw := focusStart(p.norm)
	for i, ts := range terms {
		if i == fw {
			p.focusFrom = len(p.stems)
		}
		p.stems = append(p.stems, ts...)
	}
	p.concepts = li.conceptsOf(ws, terms, corrected, &p.groups)
	return p
}

// synOwn is the synonym term's words analyzed as the user's own words
// (joined by spaces, as in the question that names it).
func (li *langIndex) synOwn(group, term int) []string {
	g := &li.synonyms[group]
	if p := g.own[term].Load(); p != nil {
		return *p
	}
	own := li.analyze(strings.Join(g.words[term], " "))
	g.own[term].Store(&own)
	return own
}

// rareWord is how often a word may occur in the knowledge and still be
// taken for a typo (when it is no real word).
const rareWord = 2

// frequent tells the corrector which words need no correction.
func (li *langIndex) frequent(w string) bool { return li.vocab[w] > rareWord }

func (li *langIndex) allKnown(ts []string) bool {
	for _, t := range ts {
		if li.df[t] == 0 {
			return false
		}
	}
	return true
}

// conceptsOf turns words into weighted concepts: each word (or synonym
// phrase) with its alternatives.
// terms[i] is li.wordTerms(ws[i]).
func (li *langIndex) conceptsOf(ws []string, terms [][]string, corrected []bool, groups *[]int) []concept {
	used := make([]bool, len(ws))
	var cs []concept
	// Synonym phrases first, longest first.
	type span struct {
		start, end, group, term int
	}
	var spans []span
	// Only the groups with a term starting with the word can match there.
	for i, w := range ws {
		for _, st := range li.synByFirst[w] {
			tw := li.synonyms[st.group].words[st.term]
			if i+len(tw) > len(ws) {
				continue
			}
			match := true
			for j := range tw {
				if ws[i+j] != tw[j] {
					match = false
					break
				}
			}
			if match {
				spans = append(spans, span{i, i + len(tw), st.group, st.term})
			}
		}
	}
	// Longest first, then in the synonyms' order.
	slices.SortFunc(spans, func(a, b span) int {
		if la, lb := a.end-a.start, b.end-b.start; la != lb {
			return lb - la
		}
		if a.group != b.group {
			return a.group - b.group
		}
		if a.term != b.term {
			return a.term - b.term
		}
		return a.start - b.start
	})
	for _, sp := range spans {
		free := true
		for k := sp.start; k < sp.end; k++ {
			if used[k] {
				free = false
				break
			}
		}
		if !free {
			continue
		}
		corr := false
		for k := sp.start; k < sp.end; k++ {
			used[k] = true
			corr = corr || corrected[k]
		}
		*groups = append(*groups, sp.group)
		g := li.synonyms[sp.group]
		own := li.synOwn(sp.group, sp.term)
		c := concept{alts: [][]string{own}, anchor: true, corr: corr}
		for ti, ts := range g.terms {
			if ti != sp.term && len(ts) > 0 {
				c.alts = append(c.alts, ts)
			}
		}
		if len(own) == 0 {
			c.alts = c.alts[1:]
		}
		if len(c.alts) == 0 {
			continue
		}
		cs = append(cs, c)
	}
	seen := map[string]bool{}
	for i, w := range ws {
		if used[i] {
			continue
		}
		for _, t := range terms[i] {
			if seen[t] {
				continue
			}
			seen[t] = true
			// A corrected word and an exemption code count as the
			// domain's own words.
			c := concept{alts: [][]string{{t}}, anchor: li.anchors[t] || corrected[i] || isCode(w), corr: corrected[i]}
			cs = append(cs, c)
		}
	}
	if len(cs) > maxTerms {
		cs = cs[:maxTerms]
	}
	for i := range cs {
		cs[i].weight = li.conceptWeight(cs[i])
		li.termIDsOf(&cs[i])
	}
	return cs
}

// focusStart is the index, among words(text), of the first word of the
// sentence that asks: the last sentence ending in a question mark, else the
// last sentence with a word. A sentence ends at ".", "!", "?", "…" or a
// line break followed by a space or the end ("$1.50" and "e.g." inside a
// sentence do not end it). 0 for a text of one sentence.
func focusStart(text string) int {
	type sent struct {
		start, n int
		asks     bool
	}
	var sents []sent
	nw, from := 0, 0
	flush := func(end int, asks bool) {
		n := len(words(text[from:end]))
		if n > 0 {
			sents = append(sents, sent{nw, n, asks})
		}
		nw += n
		from = end
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		end := c == '.' || c == '!' || c == '?' || c == '\n'
		size := 1
		if !end && strings.HasPrefix(text[i:], "…") {
			end, size = true, len("…")
		}
		if !end {
			continue
		}
		next := i + size
		if next < len(text) && c != '\n' && text[next] != ' ' && text[next] != '\n' && text[next] != '\t' {
			continue
		}
		flush(next, c == '?')
		i = next - 1
	}
	flush(len(text), false)
	if len(sents) == 0 {
		return 0
	}
	for i := len(sents) - 1; i >= 0; i-- {
		if sents[i].asks {
			return sents[i].start
		}
	}
	return sents[len(sents)-1].start
}
