// Package spell holds the project's one edit-distance function and a
// whole-word typo corrector (symmetric delete over a vocabulary) guarded by
// English and French word lists, so that a real word is never "corrected".
//
// The word lists are embedded, filtered (lower case, accents folded, letters
// only, 4+ letters) and gzipped:
//   - words-en.txt.gz: Debian's wamerican 2020.12.07 (SCOWL by Kevin Atkinson;
//     permissive licence: use, copy, modify, distribute and sell with the
//     copyright notice; see /usr/share/doc/wamerican/copyright);
//   - words-fr.txt.gz: the stems of Debian's hunspell-fr-classical 7.0
//     dictionary (Dicollecte contributors, MPL-2.0; this file is unmodified
//     in content apart from the filtering above and is available under the
//     MPL-2.0, https://mozilla.org/MPL/2.0/).
//
// They were made with: apt-get download wamerican hunspell-fr-classical;
// dpkg-deb -x each; keep lines without an upper-case first letter, strip
// hunspell's "/flags", fold accents (NFKD, drop marks, œ→oe, æ→ae), keep
// ^[a-z]{4,}$, sort, gzip.
package spell

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"io"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

var rowPool = sync.Pool{New: func() any { s := make([]int, 0, 64); return &s }}

// Distance is the optimal-string-alignment distance between a and b
// (insertions, deletions, substitutions and adjacent transpositions count
// one each), counted in runes. It gives up once the distance exceeds max and
// returns max+1; a negative max means no limit.
func Distance(a, b string, max int) int {
	ra, rb := []rune(a), []rune(b)
	if max < 0 {
		max = len(ra) + len(rb)
	}
	if d := len(ra) - len(rb); d > max || -d > max {
		return max + 1
	}
	w := len(rb) + 1
	p := rowPool.Get().(*[]int)
	defer rowPool.Put(p)
	need := 3 * w
	if cap(*p) < need {
		*p = make([]int, need)
	}
	buf := (*p)[:need]
	prev2, prev, cur := buf[:w], buf[w:2*w], buf[2*w:]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin > max {
			return max + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return min(prev[len(rb)], max+1)
}

//go:embed words-en.txt.gz
var wordsEN []byte

//go:embed words-fr.txt.gz
var wordsFR []byte

var dict struct {
	once sync.Once
	en   map[string]struct{}
	fr   map[string]struct{}
}

func loadList(gz []byte) map[string]struct{} {
	r, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		panic("spell: embedded word list: " + err.Error())
	}
	data, err := io.ReadAll(r)
	if err != nil {
		panic("spell: embedded word list: " + err.Error())
	}
	m := make(map[string]struct{}, bytes.Count(data, []byte{'\n'}))
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			i = len(data)
		}
		if i > 0 {
			m[string(data[:i])] = struct{}{}
		}
		data = data[min(i+1, len(data)):]
	}
	return m
}

func loadDict() {
	dict.once.Do(func() {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); dict.fr = loadList(wordsFR) }()
		dict.en = loadList(wordsEN)
		wg.Wait()
	})
}

// Preload reads the embedded word lists now rather than at the first
// correction (they take a few tens of milliseconds).
func Preload() { loadDict() }

// frenchEndings are inflections stripped to find a French word's dictionary
// stem (the list holds stems: "travailler", not "travaillons").
var frenchEndings = []struct{ from, to string }{
	{"s", ""}, {"x", ""}, {"e", ""}, {"es", ""}, {"ee", "er"}, {"ees", "er"}, {"es", "er"}, {"e", "er"},
	{"ons", "er"}, {"ez", "er"}, {"ent", "er"}, {"ait", "er"}, {"aient", "er"}, {"ais", "er"}, {"ant", "er"},
	{"era", "er"}, {"eront", "er"}, {"erai", "er"}, {"rait", "r"}, {"aux", "al"}, {"ive", "if"}, {"ives", "if"},
	{"euse", "eur"}, {"euses", "eur"}, {"ienne", "ien"}, {"iennes", "ien"}, {"ales", "al"}, {"ale", "al"},
	{"it", "ir"}, {"is", "ir"}, {"issent", "ir"}, {"issons", "ir"}, {"u", "oir"}, {"ue", "oir"}, {"us", "oir"},
}

// IsWord reports whether w (lower case, accents folded) is a real English or
// French word according to the embedded lists.
func IsWord(w string) bool {
	loadDict()
	if _, ok := dict.en[w]; ok {
		return true
	}
	if _, ok := dict.fr[w]; ok {
		return true
	}
	for _, e := range frenchEndings {
		if strings.HasSuffix(w, e.from) && len(w)-len(e.from) >= 3 {
			if _, ok := dict.fr[w[:len(w)-len(e.from)]+e.to]; ok {
				return true
			}
		}
	}
	return false
}

// MinLen and MaxLen bound the words (in runes) the corrector corrects.
const (
	MinLen = 4
	MaxLen = 24
)

// Corrector corrects whole words against a vocabulary with symmetric
// deletes: one edit for words of up to 7 letters, two for longer ones.
type Corrector struct {
	once    sync.Once
	vocab   map[string]int
	minFreq int
	words   []string
	freq    []int
	deletes map[string][]int32
}

// NewCorrector indexes a vocabulary (word → how often it occurs). Words
// that occur fewer than minFreq times are not offered as corrections.
func NewCorrector(vocab map[string]int, minFreq int) *Corrector {
	c := NewLazyCorrector(vocab, minFreq)
	c.Warm()
	return c
}

// NewLazyCorrector is NewCorrector that indexes the vocabulary on first
// use, or when Warm is called (in the background, say). vocab must not
// change afterwards.
func NewLazyCorrector(vocab map[string]int, minFreq int) *Corrector {
	return &Corrector{vocab: vocab, minFreq: minFreq}
}

// Warm indexes the vocabulary if that is not done yet.
func (c *Corrector) Warm() { c.once.Do(c.index) }

func (c *Corrector) index() {
	vocab, minFreq := c.vocab, c.minFreq
	c.vocab = nil
	c.deletes = make(map[string][]int32, len(vocab)*8)
	for w, f := range vocab {
		n := utf8.RuneCountInString(w)
		if f < minFreq || n < MinLen-1 || isNumeric(w) {
			continue
		}
		id := int32(len(c.words))
		c.words = append(c.words, w)
		c.freq = append(c.freq, f)
		c.deletes[w] = append(c.deletes[w], id)
		for _, d := range deletes1(w) {
			c.deletes[d] = append(c.deletes[d], id)
		}
	}
}

// Len is the number of words the corrector can offer.
func (c *Corrector) Len() int {
	c.Warm()
	return len(c.words)
}

// MaxEdits is how many edits a word of n runes may need to be corrected.
func MaxEdits(n int) int {
	if n >= 8 {
		return 2
	}
	return 1
}

// Correct returns the vocabulary word closest to w (lower case, accents
// folded) and true, or "" and false when inVocab(w) holds, w is a real
// English or French word, is shorter than MinLen, holds a digit, or has no
// close enough neighbour. Ties go to the smaller distance, then a word with
// the same first letter, then the more frequent word.
func (c *Corrector) Correct(w string, inVocab func(string) bool) (string, bool) {
	n := utf8.RuneCountInString(w)
	if n < MinLen || n > MaxLen || hasDigit(w) || (inVocab != nil && inVocab(w)) {
		return "", false
	}
	if IsWord(w) {
		return "", false
	}
	c.Warm()
	maxD := MaxEdits(n)
	cands := map[int32]bool{}
	look := func(k string) {
		for _, id := range c.deletes[k] {
			cands[id] = true
		}
	}
	look(w)
	d1 := deletes1(w)
	for _, d := range d1 {
		look(d)
	}
	if maxD >= 2 {
		for _, d := range d1 {
			if utf8.RuneCountInString(d) >= MinLen-1 {
				for _, dd := range deletes1(d) {
					look(dd)
				}
			}
		}
	}
	first, _ := utf8.DecodeRuneInString(w)
	best, bestD, bestSame, bestF := int32(-1), maxD+1, false, 0
	for id := range cands {
		v := c.words[id]
		if v == w {
			continue
		}
		d := Distance(w, v, maxD)
		if d > maxD {
			continue
		}
		f, _ := utf8.DecodeRuneInString(v)
		same := f == first
		better := d < bestD ||
			(d == bestD && same && !bestSame) ||
			(d == bestD && same == bestSame && (c.freq[id] > bestF || (c.freq[id] == bestF && best >= 0 && v < c.words[best])))
		if best < 0 || better {
			best, bestD, bestSame, bestF = id, d, same, c.freq[id]
		}
	}
	if best < 0 {
		return "", false
	}
	return c.words[best], true
}

func deletes1(w string) []string {
	rs := []rune(w)
	out := make([]string, 0, len(rs))
	for i := range rs {
		out = append(out, string(rs[:i])+string(rs[i+1:]))
	}
	return out
}

func hasDigit(s string) bool {
	for _, r := range s {
		if unicode.IsDigit(r) {
			return true
		}
	}
	return false
}

func isNumeric(s string) bool {
	for _, r := range s {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return s != ""
}
