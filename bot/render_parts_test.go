package bot

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/impbot/impbot/index"
	"github.com/impbot/impbot/knowledge"
)

// articleReplyUncached is articleReply as it was before its article parts
// were kept (everything rendered for every reply): the reference the kept
// parts must agree with.
func (r *Router) articleReplyUncached(lang string, a *knowledge.Article, score float64, sugg []string, section int, platform, lead string) Reply {
	var head strings.Builder
	head.WriteString("**" + a.Title + "**\n")
	if lead != "" {
		head.WriteString(lead + "\n\n")
	}
	head.WriteString(a.Summary)
	var tail strings.Builder
	if len(a.Sources) > 0 {
		tail.WriteString(msg(lang, "sources") + Colon(lang))
		seen := map[string]int{}
		for i, s := range a.Sources {
			if i > 0 {
				tail.WriteString(" · ")
			}
			label := sourceLabel(lang, s)
			seen[label]++
			if seen[label] > 1 {
				label = fmt.Sprintf("%s (%d)", label, seen[label])
			}
			tail.WriteString("[" + label + "](" + s + ")")
		}
		tail.WriteString("\n")
	}
	if a.Reviewed != "" {
		tail.WriteString(msg(lang, "reviewed") + " " + a.Reviewed + ". ")
	}
	tail.WriteString(r.Notice(lang))
	body, links := renderArticleLinks(a.Body, r.ix.Load().Base(), lang)
	partial := false
	if secs := a.Sections(); section >= 0 && section < len(secs) && len(secs) > 1 {
		body, links = renderArticleLinks(secs[section].Text, r.ix.Load().Base(), lang)
		partial = true
	}
	if platform != consolePlatform {
		// Chat platforms: the reply fits one message. The sources are
		// short labelled links, but Discord counts their addresses too.
		budget := r.opt.MaxReplyChars - utf8.RuneCountInString(head.String()) - utf8.RuneCountInString(tail.String()) - 4
		body = fitBody(body, budget, msg(lang, "more"))
	}
	text := head.String()
	if body != "" {
		text += "\n\n" + body
	}
	text += "\n\n" + tail.String()
	rep := Reply{Text: text, Topic: a.ID, Score: score, Suggestions: sugg}
	if rep.Suggestions == nil {
		rep.Suggestions = []string{}
	}
	ix := r.ix.Load()
	if partial {
		rep.Buttons = append(rep.Buttons, Button{Label: msg(lang, "btn_full"), Action: ArticleAction(a.ID)})
	}
	seen := map[string]bool{a.ID: true}
	for _, id := range links {
		if !seen[id] {
			if ra := ix.Base().Article(lang, id); ra != nil {
				seen[id] = true
				rep.Buttons = append(rep.Buttons, Button{Label: ra.Title, Action: ArticleAction(id)})
			}
		}
	}
	add := func(id string) {
		if seen[id] || len(rep.Buttons) >= 4 {
			return
		}
		if ra := ix.Base().Article(lang, id); ra != nil {
			seen[id] = true
			rep.Buttons = append(rep.Buttons, Button{Label: ra.Title, Action: ArticleAction(id)})
		}
	}
	for _, id := range a.Related {
		add(id)
	}
	for _, id := range sugg {
		add(id)
	}
	if r.opt.Dialogue != nil && a.Kind == knowledge.KindTopic {
		rep.Buttons = append(rep.Buttons, Button{Label: msg(lang, "btn_elig"), Action: CommandAction("eligibility")})
	}
	if r.opt.Observer != nil {
		rep.Buttons = append(rep.Buttons,
			Button{Label: msg(lang, "btn_helpful"), Action: ActFeedback + "+:" + a.ID},
			Button{Label: msg(lang, "btn_unhelpful"), Action: ActFeedback + "-:" + a.ID})
	}
	rep.Buttons = append(rep.Buttons, Button{Label: msg(lang, "btn_person"), Action: ActHandoff})
	return rep
}

// TestKeptArticlePartsRenderAsBefore checks every article of both
// languages, whole and by each section, on the console and on a chat
// platform (whose replies are cut to fit), with and without a lead, in
// its own language and the other one, against the reply rendered from
// scratch; twice, so that the second round reads the kept parts, and from
// several goroutines at once.
func TestKeptArticlePartsRenderAsBefore(t *testing.T) {
	r := newTestRouter(t, Options{Contact: "someone@example.com", OrgName: "Org", MaxReplyChars: 900})
	b := r.Index().Base()
	n, cut, partial := 0, 0, 0
	for round := range 2 {
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, lang := range []string{"en", "fr"} {
			for _, a := range b.Articles[lang] {
				wg.Go(func() {
					for section := -1; section <= len(a.Sections()); section++ {
						for _, platform := range []string{consolePlatform, "telegram"} {
							for _, lead := range []string{"", "A lead line."} {
								for _, replyLang := range []string{lang, map[string]string{"en": "fr", "fr": "en"}[lang]} {
									sugg := []string{"worker-fees", a.ID}
									got := r.articleReply(replyLang, a, 0.5, sugg, section, platform, lead)
									want := r.articleReplyUncached(replyLang, a, 0.5, sugg, section, platform, lead)
									if !reflect.DeepEqual(got, want) {
										t.Errorf("%s %s section %d %s lead %q: reply differs:\n%+v\n%+v", lang, a.ID, section, platform, lead, got, want)
										return
									}
									mu.Lock()
									n++
									if round == 0 && platform != consolePlatform && strings.Contains(got.Text, msg(replyLang, "more")) {
										cut++
									}
									if round == 0 && len(got.Buttons) > 0 && got.Buttons[0].Label == msg(replyLang, "btn_full") {
										partial++
									}
									mu.Unlock()
								}
							}
						}
					}
				})
			}
		}
		wg.Wait()
		if t.Failed() {
			return
		}
	}
	if n < 1000 || cut == 0 || partial == 0 {
		t.Fatalf("%d replies compared, %d cut to fit, %d of one section: not the cases meant", n, cut, partial)
	}
}

// TestKeptArticlePartsFollowTheIndex checks that swapping the index drops
// the parts kept for the previous one.
func TestKeptArticlePartsFollowTheIndex(t *testing.T) {
	r := newTestRouter(t, Options{})
	first := r.Index()
	a := first.Base().Articles["en"][0]
	p1 := r.renderedParts("en", a, -1)
	if p2 := r.renderedParts("en", a, -1); p2 != p1 {
		t.Fatal("the parts were rendered again instead of kept")
	}
	kb, err := knowledge.LoadShipped()
	if err != nil {
		t.Fatal(err)
	}
	second, err := index.Build(kb)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { second.Close() })
	r.Swap(second)
	a2 := second.Base().Articles["en"][0]
	p3 := r.renderedParts("en", a2, -1)
	if c := r.parts.Load(); c == nil || c.ix != second {
		t.Fatal("the kept parts are not those of the index swapped in")
	}
	if p3 == p1 || p3.body != p1.body || p3.tail != p1.tail {
		t.Fatalf("after the swap: parts %p (body equal %v), before %p", p3, p3.body == p1.body, p1)
	}
	if _, ok := r.parts.Load().m.Load(partsKey{a, -1, "en"}); ok {
		t.Fatal("an article of the previous index is kept after the swap")
	}
}
