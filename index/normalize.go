package index

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// confusables maps Cyrillic and Greek letters that look like Latin ones to
// those Latin letters (a small subset of Unicode's confusables table: the
// letters that are drawn identically in common fonts).
var confusables = map[rune]rune{
	// Cyrillic
	'а': 'a', 'е': 'e', 'о': 'o', 'р': 'p', 'с': 'c', 'у': 'y', 'х': 'x', 'і': 'i', 'ј': 'j', 'ѕ': 's',
	'ԁ': 'd', 'ԛ': 'q', 'ԝ': 'w', 'һ': 'h', 'ӏ': 'l', 'к': 'k', 'м': 'm', 'т': 't', 'в': 'b', 'н': 'h', 'ё': 'e',
	'А': 'A', 'В': 'B', 'Е': 'E', 'К': 'K', 'М': 'M', 'Н': 'H', 'О': 'O', 'Р': 'P', 'С': 'C', 'Т': 'T',
	'Х': 'X', 'У': 'Y', 'І': 'I', 'Ј': 'J', 'Ѕ': 'S', 'Ԁ': 'D', 'Ԛ': 'Q', 'Ԝ': 'W',
	// Greek
	'α': 'a', 'ο': 'o', 'ε': 'e', 'ι': 'i', 'κ': 'k', 'ν': 'v', 'ρ': 'p', 'τ': 't', 'υ': 'u', 'χ': 'x',
	'Α': 'A', 'Β': 'B', 'Ε': 'E', 'Ζ': 'Z', 'Η': 'H', 'Ι': 'I', 'Κ': 'K', 'Μ': 'M', 'Ν': 'N', 'Ο': 'O',
	'Ρ': 'P', 'Τ': 'T', 'Υ': 'Y', 'Χ': 'X',
}

// Normalize prepares user text for analysis: Unicode NFKC (full-width and
// stylised letters become plain ones), zero-width, format and bidi-control
// characters dropped, Cyrillic and Greek look-alike letters inside Latin
// words folded to Latin, and emoji and other symbols turned into spaces.
// Text that needs none of this is returned as is.
func Normalize(s string) string {
	if isPlain(s) {
		return s
	}
	s = norm.NFKC.String(strings.ToValidUTF8(s, " "))
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Cf, r), r == '\ufe0e', r == '\ufe0f', unicode.Is(unicode.Variation_Selector, r):
			// zero-width (U+200B–U+200D, U+2060, U+FEFF), bidi controls
			// (U+202A–U+202E, U+2066–U+2069), soft hyphen, variation selectors
			continue
		case unicode.IsControl(r) && r != '\n' && r != '\t':
			b.WriteByte(' ')
		case unicode.Is(unicode.So, r), unicode.Is(unicode.Sk, r), unicode.Is(unicode.Co, r),
			r >= 0x1F000 && r <= 0x1FAFF, r == '\u20e3':
			// emoji, pictographs, private use: noise
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return foldHomoglyphs(b.String())
}

func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || (c < ' ' && c != '\n' && c != '\t') {
			return false
		}
	}
	return true
}

// foldHomoglyphs replaces confusable Cyrillic/Greek letters in words that
// also hold Latin letters ("реrmit" typed with a Cyrillic р and е), and in
// words made only of confusables when the text around them is Latin.
func foldHomoglyphs(s string) string {
	rs := []rune(s)
	latinText := false
	for _, r := range rs {
		if r < utf8.RuneSelf && unicode.IsLetter(r) {
			latinText = true
			break
		}
	}
	changed := false
	for i := 0; i < len(rs); {
		if !unicode.IsLetter(rs[i]) {
			i++
			continue
		}
		j := i
		latin, foreign, allConf := false, false, true
		for j < len(rs) && (unicode.IsLetter(rs[j]) || unicode.Is(unicode.Mn, rs[j])) {
			r := rs[j]
			if unicode.Is(unicode.Latin, r) {
				latin = true
			} else if _, ok := confusables[r]; ok {
				foreign = true
			} else if unicode.IsLetter(r) {
				allConf = false
			}
			j++
		}
		if foreign && allConf && (latin || latinText) {
			for k := i; k < j; k++ {
				if l, ok := confusables[rs[k]]; ok {
					rs[k] = l
					changed = true
				}
			}
		}
		i = j
	}
	if !changed {
		return s
	}
	return string(rs)
}
