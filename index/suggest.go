package index

import (
	"context"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/impbot/impbot/knowledge"
)

// Suggestion is one completion for what a user is typing: an article and the
// title or question of it that matched.
type Suggestion struct {
	ID   string
	Text string
}

// maxSuggestRunes bounds the typed text that is looked at.
const maxSuggestRunes = 200

// Suggest completes a question as it is being typed (Discord's autocomplete):
// up to n articles whose title or one of whose questions contains every typed
// word, the last one possibly unfinished, best first, one suggestion per
// article. When that finds fewer than n, the search fills in (stemming,
// synonyms, typo correction). With nothing typed it lists the topics by
// title. It falls back to English when lang has no articles.
func (ix *Index) Suggest(ctx context.Context, lang, typed string, n int) []Suggestion {
	if n <= 0 {
		return nil
	}
	if !ix.Has(lang) {
		lang = "en"
	}
	typed = clip(typed, maxSuggestRunes)
	toks := words(typed)
	if len(toks) == 0 {
		var out []Suggestion
		for _, a := range ix.base.Articles[lang] {
			if a.Kind == knowledge.KindTopic {
				out = append(out, Suggestion{ID: a.ID, Text: a.Title})
			}
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Text < out[j].Text })
		if len(out) > n {
			out = out[:n]
		}
		return out
	}
	// The last word is still being typed unless followed by a space.
	unfinished := !unicode.IsSpace(lastRune(typed))

	type scored struct {
		Suggestion
		score float64
	}
	var found []scored
	for _, c := range ix.suggestCandidates(lang) {
		best, bestText := 0.0, ""
		for i, cw := range c.words {
			s := suggestScore(toks, cw, unfinished)
			if s <= 0 {
				continue
			}
			if i == 0 {
				s += 1 // the title names the topic best
			}
			if c.a.Kind != knowledge.KindTopic {
				s -= 0.5
			}
			if s > best {
				best, bestText = s, c.texts[i]
			}
		}
		if best > 0 {
			found = append(found, scored{Suggestion{ID: c.a.ID, Text: bestText}, best})
		}
	}
	sort.Slice(found, func(i, j int) bool {
		if found[i].score != found[j].score {
			return found[i].score > found[j].score
		}
		return found[i].Text < found[j].Text
	})
	out := make([]Suggestion, 0, n)
	seen := map[string]bool{}
	for _, f := range found {
		if len(out) == n {
			break
		}
		out = append(out, f.Suggestion)
		seen[f.ID] = true
	}
	if len(out) < n && ctx.Err() == nil {
		res, err := ix.Search(ctx, lang, typed, n)
		if err == nil {
			for _, h := range res.Hits {
				if len(out) == n {
					break
				}
				a := ix.base.Article(lang, h.ID)
				if a == nil || seen[h.ID] {
					continue
				}
				seen[h.ID] = true
				out = append(out, Suggestion{ID: a.ID, Text: a.Title})
			}
		}
	}
	return out
}

// suggestScore scores a candidate text (as words) for the typed words: 0 when
// a typed word is missing; whole words count more than prefixes; a candidate
// that starts like the typed text, and a shorter one, rank higher.
func suggestScore(toks, cand []string, unfinished bool) float64 {
	score := 0.0
	for i, t := range toks {
		prefixOK := utf8.RuneCountInString(t) >= 3 || (unfinished && i == len(toks)-1)
		got := 0.0
		for _, w := range cand {
			if w == t {
				got = 3
				break
			}
			if prefixOK && strings.HasPrefix(w, t) {
				got = 2
			}
		}
		if got == 0 {
			return 0
		}
		score += got
	}
	if len(cand) > 0 && strings.HasPrefix(cand[0], toks[0]) {
		score++
	}
	return score - 0.01*float64(len(cand))
}

func lastRune(s string) rune {
	if s == "" {
		return ' '
	}
	r, _ := utf8.DecodeLastRuneInString(s)
	return r
}

// suggestCand is an article's title and questions, with their words.
type suggestCand struct {
	a     *knowledge.Article
	texts []string
	words [][]string
}

// suggestCache keeps the candidates of the index in use (the latest one
// asked), so each keystroke does not re-analyze every title and question.
var suggestCache struct {
	sync.Mutex
	ix    *Index
	langs map[string][]suggestCand
}

func (ix *Index) suggestCandidates(lang string) []suggestCand {
	suggestCache.Lock()
	defer suggestCache.Unlock()
	if suggestCache.ix != ix {
		suggestCache.ix, suggestCache.langs = ix, map[string][]suggestCand{}
	}
	if cs, ok := suggestCache.langs[lang]; ok {
		return cs
	}
	var cs []suggestCand
	for _, a := range ix.base.Articles[lang] {
		c := suggestCand{a: a, texts: append([]string{a.Title}, a.Questions...)}
		for _, t := range c.texts {
			c.words = append(c.words, words(t))
		}
		cs = append(cs, c)
	}
	suggestCache.langs[lang] = cs
	return cs
}
