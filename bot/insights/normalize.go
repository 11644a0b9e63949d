package insights

import (
	"strings"
	"unicode"
)

// Normalize folds a question to its grouping key: lower case, accents
// removed, punctuation and runs of white space turned into one space. "Can I
// work in Québec?" and "can i work in quebec" share a key.
func Normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range strings.ToLower(s) {
		if f, ok := folds[r]; ok {
			if b.Len() > 0 && space {
				b.WriteByte(' ')
			}
			space = false
			b.WriteString(f)
			continue
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if b.Len() > 0 && space {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
			continue
		}
		if unicode.Is(unicode.Mn, r) {
			continue // a combining accent: drop it
		}
		space = true
	}
	return b.String()
}

// folds maps the accented Latin letters (lower case) to plain ASCII.
var folds = func() map[rune]string {
	m := map[rune]string{'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'ł': "l", 'đ': "d", 'ð': "d", 'þ': "th", 'ı': "i"}
	for plain, accented := range map[string]string{
		"a": "àáâãäåāăą",
		"c": "çćĉċč",
		"d": "ď",
		"e": "èéêëēĕėęě",
		"g": "ĝğġģ",
		"h": "ĥħ",
		"i": "ìíîïĩīĭįı",
		"j": "ĵ",
		"k": "ķ",
		"l": "ĺļľŀ",
		"n": "ñńņňŉ",
		"o": "òóôõöōŏő",
		"r": "ŕŗř",
		"s": "śŝşšș",
		"t": "ţťŧț",
		"u": "ùúûüũūŭůűų",
		"w": "ŵ",
		"y": "ýÿŷ",
		"z": "źżž",
	} {
		for _, r := range accented {
			m[r] = plain
		}
	}
	return m
}()
