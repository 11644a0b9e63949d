package knowledge

import (
	"fmt"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// EmojiFile is the name of the file that gives emoji their words.
const EmojiFile = "emoji.yaml"

// ParseEmoji parses the emoji file: for each language, a mapping of an emoji
// (or an emoji sequence, such as a flag) to the words it stands for, e.g.
// `en: {"🎓": graduate, "💍": spouse}`. Keys are stored without variation
// selectors (U+FE0E, U+FE0F), so "✈" and "✈️" are one key.
func ParseEmoji(file string, data []byte) (map[string]map[string]string, Problems) {
	var node yaml.Node
	if err := yaml.Unmarshal(data, &node); err != nil {
		return nil, Problems{yamlProblem(file, err)}
	}
	out := map[string]map[string]string{}
	if len(node.Content) == 0 {
		return out, nil
	}
	top := node.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, Problems{{File: file, Line: top.Line, Message: `expected a mapping of language code to emoji and their words, e.g. en: {"🎓": graduate}`}}
	}
	var probs Problems
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		if !langRE.MatchString(k.Value) {
			probs = append(probs, Problem{File: file, Line: k.Line, Message: fmt.Sprintf("%q is not a two-letter language code", k.Value)})
			continue
		}
		if v.Kind != yaml.MappingNode {
			probs = append(probs, Problem{File: file, Line: v.Line, Message: `expected a mapping of emoji to words, e.g. "🎓": graduate`})
			continue
		}
		m := map[string]string{}
		lines := map[string]int{}
		for j := 0; j+1 < len(v.Content); j += 2 {
			ek, ev := v.Content[j], v.Content[j+1]
			key := EmojiKey(ek.Value)
			words := strings.Join(strings.Fields(ev.Value), " ")
			switch {
			case ek.Kind != yaml.ScalarNode || key == "":
				probs = append(probs, Problem{File: file, Line: ek.Line, Message: "empty or non-text emoji"})
			case !isEmojiKey(key):
				probs = append(probs, Problem{File: file, Line: ek.Line, Message: fmt.Sprintf("%q is not an emoji (letters, digits and spaces are not allowed in a key)", ek.Value)})
			case ev.Kind != yaml.ScalarNode || words == "":
				probs = append(probs, Problem{File: file, Line: ev.Line, Message: fmt.Sprintf("emoji %q needs the words it stands for", ek.Value)})
			case lines[key] != 0:
				probs = append(probs, Problem{File: file, Line: ek.Line, Message: fmt.Sprintf("emoji %q already given on line %d", ek.Value, lines[key])})
			default:
				lines[key] = ek.Line
				m[key] = strings.ToLower(words)
			}
		}
		out[k.Value] = m
	}
	return out, probs
}

// EmojiKey removes variation selectors (U+FE0E, U+FE0F) and skin-tone
// modifiers (U+1F3FB–U+1F3FF) from s: the form emoji are looked up by, so
// "✈️" is "✈" and "👩🏽‍💻" is "👩‍💻".
func EmojiKey(s string) string {
	clean := true
	for _, r := range s {
		if isEmojiModifier(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if !isEmojiModifier(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isEmojiModifier(r rune) bool {
	return r == '\ufe0e' || r == '\ufe0f' || r >= 0x1F3FB && r <= 0x1F3FF
}

func isEmojiKey(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsSpace(r) || r < 0x80 {
			return false
		}
	}
	return true
}
