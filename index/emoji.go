package index

import (
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/impbot/impbot/knowledge"
)

// emojiReplacer reads the emoji of one language's emoji.yaml as their
// words: "🎓 ➡️ 💼" becomes " graduate studies  ➡️  work job ". Emoji not
// listed stay, and Normalize makes them noise. Longer sequences win over
// their parts ("👩‍💻" before "👩").
func emojiReplacer(words map[string]string) *strings.Replacer {
	if len(words) == 0 {
		return nil
	}
	keys := make([]string, 0, len(words))
	for k := range words {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if len(keys[i]) != len(keys[j]) {
			return len(keys[i]) > len(keys[j])
		}
		return keys[i] < keys[j]
	})
	pairs := make([]string, 0, 2*len(keys))
	for _, k := range keys {
		pairs = append(pairs, k, " "+words[k]+" ")
	}
	return strings.NewReplacer(pairs...)
}

// emojiWords replaces the emoji of text that the language knows by their
// words. ASCII text is returned as is.
func (li *langIndex) emojiWords(text string) string {
	if li.emoji == nil || isASCII(text) {
		return text
	}
	return li.emoji.Replace(knowledge.EmojiKey(text))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// EmojiWords returns text with the emoji that lang's emoji.yaml lists
// replaced by their words ("🎓💼" → " graduate studies  work job "): how the
// search reads them. Text without such emoji comes back unchanged.
func (ix *Index) EmojiWords(lang, text string) string {
	li := ix.langs[lang]
	if li == nil {
		return text
	}
	return li.emojiWords(text)
}
