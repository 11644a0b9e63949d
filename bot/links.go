package bot

import (
	"github.com/impbot/impbot/knowledge"
)

// consolePlatform is the terminal adapter's platform name: its replies have
// no length cap.
const consolePlatform = "console"

// renderArticleLinks turns each cross-reference written
// "[Worker fees](article:worker-fees)" into its plain label, and returns
// the linked article IDs (in order, once each) so that the reply can offer a
// button for each: no adapter needs to know about article links.
func renderArticleLinks(md string, b *knowledge.Base, lang string) (string, []string) {
	var ids []string
	seen := map[string]bool{}
	out := knowledge.ArticleLinkRE.ReplaceAllStringFunc(md, func(m string) string {
		sub := knowledge.ArticleLinkRE.FindStringSubmatch(m)
		label, id := sub[1], sub[2]
		if b != nil && b.Article(lang, id) != nil && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
		return label
	})
	return out, ids
}
