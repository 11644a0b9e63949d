package bot

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/impbot/impbot/index"
	"github.com/impbot/impbot/knowledge"
)

// The shipped index, built once for the test binary. The function given to
// the sync.Once only records the error: a t.Fatal inside once.Do would end
// the first caller alone and leave every later test a nil index.
var (
	ixOnce  sync.Once
	testIx  *index.Index
	testErr error
)

func newTestRouter(t *testing.T, opt Options) *Router {
	t.Helper()
	ixOnce.Do(func() {
		b, err := knowledge.LoadShipped()
		if err != nil {
			testErr = fmt.Errorf("load the shipped knowledge: %w", err)
			return
		}
		if testIx, err = index.Build(b); err != nil {
			testErr = fmt.Errorf("build the shipped index: %w", err)
		}
	})
	if testErr != nil {
		t.Fatal(testErr)
	}
	return NewRouter(testIx, opt)
}

func ask(t *testing.T, h Handler, text string) Reply {
	t.Helper()
	resp, err := h.Handle(context.Background(), &Request{Platform: "test", ChatID: "c", UserID: "u", Text: text})
	if err != nil {
		t.Fatalf("%q: %v", text, err)
	}
	if resp == nil || len(resp.Replies) == 0 {
		t.Fatalf("%q: no reply", text)
	}
	return resp.Replies[0]
}

func TestConfidentAnswerHasSummarySourcesNoticeAndButtons(t *testing.T) {
	r := newTestRouter(t, Options{OrgName: "Maple Law", Contact: "hello@maple.example"})
	rep := ask(t, r, "how much is the employer compliance fee?")
	if rep.Topic != "employer-compliance-fee" {
		t.Fatalf("topic %q, want employer-compliance-fee", rep.Topic)
	}
	a := r.Index().Base().Article("en", rep.Topic)
	for _, want := range []string{"**" + a.Title + "**", a.Summary, "Sources: [IRCC](", "Reviewed " + a.Reviewed, "not legal advice", "Maple Law (hello@maple.example)"} {
		if !strings.Contains(rep.Text, want) {
			t.Errorf("answer lacks %q:\n%s", want, rep.Text)
		}
	}
	if rep.Score < r.opt.Confident || rep.Score > 1 {
		t.Errorf("score %v out of the confident range", rep.Score)
	}
	if len(rep.Buttons) == 0 || !strings.HasPrefix(rep.Buttons[0].Action, ActArticle) {
		t.Errorf("want related-article buttons, got %+v", rep.Buttons)
	}
}

func TestEveryArticleFitsOneChatMessage(t *testing.T) {
	r := newTestRouter(t, Options{Contact: "someone@example.com"})
	for _, a := range r.Index().Base().Articles["en"] {
		rep, ok := r.ArticleReply("en", a.ID)
		if !ok {
			t.Fatalf("%s: no reply", a.ID)
		}
		if n := utf8.RuneCountInString(rep.Text); n > 1900 {
			t.Errorf("%s: %d characters, over 1900", a.ID, n)
		}
		if strings.Contains(rep.Text, "article:") {
			t.Errorf("%s: raw article link in the text", a.ID)
		}
		if !strings.Contains(rep.Text, "not legal advice") {
			t.Errorf("%s: no notice", a.ID)
		}
		for _, b := range rep.Buttons {
			if len(b.Action) > 64 {
				t.Errorf("%s: action %q longer than 64 bytes", a.ID, b.Action)
			}
		}
	}
}

func TestRedirectAndFallbackAndUnsure(t *testing.T) {
	r := newTestRouter(t, Options{})
	if rep := ask(t, r, "how do I sponsor my parents for permanent residence"); rep.Topic != "oos-citizenship-sponsorship" {
		t.Errorf("sponsor parents: topic %q", rep.Topic)
	}
	rep := ask(t, r, "what's a good lasagna recipe")
	if rep.Topic != "" || len(rep.Suggestions) != 0 || !strings.Contains(rep.Text, "International Mobility Program") {
		t.Errorf("off-topic: %+v", rep)
	}
}

// TestDidYouMeanNeedsADomainWord: below the answer threshold, a question
// with one of the domain's words gets "did you mean" buttons (and no
// article, so it still counts as not answered); one without gets the plain
// fallback, whatever its confidence. The thresholds are set so that nothing
// is answered (confidence never exceeds 0.99) and every candidate is in
// the band.
func TestDidYouMeanNeedsADomainWord(t *testing.T) {
	r := newTestRouter(t, Options{Confident: 0.995, Unsure: 0.001})
	rep := ask(t, r, "my employer says the work permit needs something, what do I do")
	if rep.Topic != "" || len(rep.Suggestions) == 0 || len(rep.Suggestions) > 3 || !strings.Contains(rep.Text, "Did you mean") {
		t.Errorf("a domain question under the answer threshold: %+v", rep)
	}
	labels := 0
	for _, b := range rep.Buttons {
		if strings.HasPrefix(b.Action, ActArticle) {
			labels++
		}
	}
	if labels != len(rep.Suggestions) {
		t.Errorf("%d article buttons for %d suggestions: %+v", labels, len(rep.Suggestions), rep.Buttons)
	}
	rep = ask(t, r, "how do I bake sourdough bread")
	if rep.Topic != "" || len(rep.Suggestions) != 0 || strings.Contains(rep.Text, "Did you mean") || !strings.Contains(rep.Text, "International Mobility Program") {
		t.Errorf("no domain word: %+v", rep)
	}
	if rep.Score < 0.001 {
		t.Errorf("the bread question's top confidence %.3f is under the band: the test proves nothing", rep.Score)
	}
}

func TestCommandsAndSmallTalk(t *testing.T) {
	r := newTestRouter(t, Options{})
	cases := map[string]string{
		"/start":           "International Mobility Program",
		"/help":            "/eligibility",
		"/start@impbot hi": "International Mobility Program",
		"/contact":         "licensed immigration consultant",
		"/eligibility":     "not available",
		"/cancel":          "no eligibility check in progress",
		"/frobnicate":      "don't know that command",
		"hello!":           "Hello",
		"thanks a lot 🙏":   "welcome",
		"merci beaucoup":   "plaisir",
		"":                 "type a question",
		"😀😀😀":              "type a question",
		"🎓➡️💼🇨🇦?":          "Post-Graduation Work Permit",
		"   \n\t ":         "type a question",
		"/forget":          "deleted",
	}
	for in, want := range cases {
		rep := ask(t, r, in)
		if !strings.Contains(rep.Text, want) {
			t.Errorf("%q: reply %q lacks %q", in, rep.Text, want)
		}
	}
}

func TestAdversarialTextGetsSaneReply(t *testing.T) {
	r := newTestRouter(t, Options{})
	h := Chain(r, Recover())
	for _, in := range []string{
		"+title:x -body:*", `"unbalanced`, `back\slash \\ \"`, strings.Repeat("lmia ", 800),
		strings.Repeat("x", 4000), "\xff\xfe invalid utf8 \xc3", "🇨🇦🍁", "<script>alert(1)</script>", "/", "//", "/ start",
	} {
		rep := ask(t, h, in)
		if strings.TrimSpace(rep.Text) == "" {
			t.Errorf("%q: empty reply", in)
		}
		if !utf8.ValidString(rep.Text) {
			t.Errorf("%q: reply not valid UTF-8", in)
		}
	}
}

func TestArticleAndUnknownActions(t *testing.T) {
	r := newTestRouter(t, Options{})
	resp, err := r.Handle(context.Background(), &Request{Platform: "t", ChatID: "c", UserID: "u", Action: ArticleAction("pgwp")})
	if err != nil || resp.Replies[0].Topic != "pgwp" {
		t.Fatalf("article action: %+v %v", resp, err)
	}
	resp, err = r.Handle(context.Background(), &Request{Platform: "t", ChatID: "c", UserID: "u", Action: ArticleAction("no-such-article")})
	if err != nil || resp.Replies[0].Topic != "" {
		t.Fatalf("unknown article action: %+v %v", resp, err)
	}
	resp, err = r.Handle(context.Background(), &Request{Platform: "t", ChatID: "c", UserID: "u", Action: "zzz"})
	if err != nil || len(resp.Replies) != 1 {
		t.Fatalf("unknown action: %+v %v", resp, err)
	}
}

func TestFrenchUserGetsFrenchFrame(t *testing.T) {
	r := newTestRouter(t, Options{})
	rep := ask(t, r, "Bonjour")
	if !strings.Contains(rep.Text, "Bonjour") {
		t.Errorf("greeting: %q", rep.Text)
	}
	resp, _ := r.Handle(context.Background(), &Request{Platform: "t", ChatID: "c", UserID: "u", Lang: "fr", Text: "/help"})
	if !strings.Contains(resp.Replies[0].Text, "Ce que je peux faire") {
		t.Errorf("French help: %q", resp.Replies[0].Text)
	}
}

func TestParseCommand(t *testing.T) {
	cases := []struct {
		in, cmd, args string
		ok            bool
	}{
		{"/start", "start", "", true}, {"/Start@ImpBot  x y", "start", "x y", true}, {"/", "", "", false},
		{"hello /start", "", "", false}, {"/sta rt", "sta", "rt", true}, {"/ä", "", "", false},
	}
	for _, c := range cases {
		cmd, args, ok := ParseCommand(c.in)
		if cmd != c.cmd || args != c.args || ok != c.ok {
			t.Errorf("ParseCommand(%q) = %q %q %v", c.in, cmd, args, ok)
		}
	}
}

func TestRecoverAndErrorReply(t *testing.T) {
	panicky := HandlerFunc(func(ctx context.Context, req *Request) (*Response, error) { panic("boom") })
	var logged strings.Builder
	h := Chain(panicky, ErrorReply(newTextLogger(&logged)), Recover())
	rep := ask(t, h, "anything")
	if !strings.Contains(rep.Text, "something went wrong") {
		t.Fatalf("reply %q", rep.Text)
	}
	if !strings.Contains(logged.String(), "boom") || strings.Contains(logged.String(), "anything") {
		t.Fatalf("log should have the panic but not the message text: %s", logged.String())
	}
}

func TestRateLimit(t *testing.T) {
	n := 0
	h := Chain(HandlerFunc(func(ctx context.Context, req *Request) (*Response, error) {
		n++
		return &Response{Replies: []Reply{{Text: "ok"}}}, nil
	}), RateLimit(0.001, 3))
	for i := 0; i < 5; i++ {
		ask(t, h, "q")
	}
	if n != 3 {
		t.Fatalf("handler ran %d times, want 3 (burst)", n)
	}
	if rep := ask(t, h, "q"); !strings.Contains(rep.Text, "very fast") {
		t.Fatalf("over the limit: %q", rep.Text)
	}
}

func TestDialogueStateJSON(t *testing.T) {
	b, _ := (&DialogueState{Ask: "age"}).MarshalJSON()
	if string(b) != `{"ask":"age","options":[]}` {
		t.Errorf("asking: %s", b)
	}
	b, _ = (&DialogueState{Done: true, Outcomes: []string{"pgwp"}}).MarshalJSON()
	if string(b) != `{"done":true,"outcomes":["pgwp"]}` {
		t.Errorf("done: %s", b)
	}
}

func TestAnswerShowsTheMatchingSectionWhole(t *testing.T) {
	r := newTestRouter(t, Options{})
	rep := ask(t, r, "How long does the compliance fee refund take")
	if rep.Topic != "employer-compliance-fee" {
		t.Fatalf("topic %q", rep.Topic)
	}
	a := r.Index().Base().Article("en", rep.Topic)
	var refunds, other knowledge.Section
	for _, s := range a.Sections() {
		switch s.Heading {
		case "Refunds":
			refunds = s
		case "No fee":
			other = s
		}
	}
	if refunds.Text == "" || other.Text == "" {
		t.Fatalf("the article lost its sections: %+v", a.Sections())
	}
	for _, line := range strings.Split(refunds.Text, "\n") {
		if !strings.Contains(rep.Text, strings.TrimSpace(line)) {
			t.Errorf("refund section line missing: %q\n%s", line, rep.Text)
		}
	}
	if strings.Contains(rep.Text, other.Text) {
		t.Errorf("an unrelated section is shown too:\n%s", rep.Text)
	}
	if len(rep.Buttons) == 0 || rep.Buttons[0].Action != ArticleAction(a.ID) {
		t.Errorf("want a full-article button first, got %+v", rep.Buttons)
	}
	// The full article (in the terminal, which has no length cap) shows
	// every section.
	full := r.articleReply("en", a, 1, nil, -1, consolePlatform, "")
	if !strings.Contains(full.Text, strings.TrimSpace(strings.Split(other.Text, "\n")[1])) {
		t.Errorf("full article lacks the other sections:\n%s", full.Text)
	}
}

func TestSectionAnswersAreNeverCutMidList(t *testing.T) {
	r := newTestRouter(t, Options{})
	resp, err := r.Handle(context.Background(), &Request{Platform: "telegram", ChatID: "c", UserID: "u", Lang: "fr", Text: "Quelles sont les conditions du PVT ?"})
	if err != nil || len(resp.Replies) == 0 {
		t.Fatalf("%v %+v", err, resp)
	}
	rep := resp.Replies[0]
	if rep.Topic == "" {
		t.Fatalf("no answer: %+v", rep)
	}
	// Whatever is shown, a list is never cut in the middle: each list shown
	// is shown whole, as in the article.
	a := r.Index().Base().Article("fr", rep.Topic)
	for _, block := range strings.Split(a.Body, "\n\n") {
		lines := strings.Split(strings.TrimSpace(block), "\n")
		if len(lines) < 2 || !strings.HasPrefix(strings.TrimSpace(lines[len(lines)-1]), "- ") {
			continue
		}
		first, last := strings.TrimSpace(lines[0]), strings.TrimSpace(lines[len(lines)-1])
		if strings.Contains(rep.Text, first) != strings.Contains(rep.Text, last) {
			t.Errorf("a list is cut in the middle (first line shown: %v, last line shown: %v):\n%s", strings.Contains(rep.Text, first), strings.Contains(rep.Text, last), rep.Text)
		}
	}
}

func TestArticleLinksBecomeLabelsAndButtons(t *testing.T) {
	r := newTestRouter(t, Options{})
	for _, lang := range []string{"en", "fr"} {
		found := false
		for _, a := range r.Index().Base().Articles[lang] {
			if !knowledge.ArticleLinkRE.MatchString(a.Body) {
				continue
			}
			found = true
			rep := r.articleReply(lang, a, 1, nil, -1, consolePlatform, "") // the whole body
			for _, m := range knowledge.ArticleLinkRE.FindAllStringSubmatch(a.Body, -1) {
				if !strings.Contains(rep.Text, m[1]) || strings.Contains(rep.Text, "](article:") {
					t.Errorf("%s/%s: link %q not rendered as its label", lang, a.ID, m[0])
				}
				has := false
				for _, b := range rep.Buttons {
					has = has || b.Action == ArticleAction(m[2])
				}
				if !has {
					t.Errorf("%s/%s: no button for linked article %s: %+v", lang, a.ID, m[2], rep.Buttons)
				}
			}
		}
		if !found {
			t.Errorf("%s: no article links in the knowledge", lang)
		}
	}
}

// TestTextLanguageWinsOverLocale: the language of the text decides when it
// is clear; the platform's locale only breaks ties (and decides for texts
// without words of either language).
func TestTextLanguageWinsOverLocale(t *testing.T) {
	r := newTestRouter(t, Options{})
	cases := []struct {
		locale, text, want string
	}{
		{"fr", "How long is a post-graduation work permit valid?", "en"},
		{"fr-CA", "can my wife work in Canada", "en"},
		{"en", "Combien de temps est valide le permis de travail post-diplôme ?", "fr"},
		{"", "Est-ce que mon conjoint peut travailler ?", "fr"},
		{"fr", "PGWP", "fr"},            // no words of either language: the locale
		{"en", "PGWP", "en"},            //
		{"fr", "merci thanks", "fr"},    // a tie: the locale
		{"en", "merci thanks", "en"},    //
		{"", "hello", "en"},             // no locale: the text
		{"fr", "/help", "fr"},           // a command: the locale
		{"en-US", "/help", "en"},        //
		{"", "bonjour, PGWP", "fr"},     //
		{"fr", "my PGWP", "en"},         // one English word, no French one: clear enough
		{"en", "🇫🇷 PVT 29 ans ?", "fr"}, // French program names and words
		{"en", "delai PTPD svp", "fr"},  // typed without accents
		{"fr", "PGWP processing time after graduation", "en"},
	}
	for _, c := range cases {
		req := &Request{Platform: "t", ChatID: "c", UserID: "u", Lang: c.locale, Text: c.text}
		if got := RequestLang(req); got != c.want {
			t.Errorf("locale %q, %q: language %s, want %s", c.locale, c.text, got, c.want)
		}
	}
	// Through the router: a French-locale user who writes English is
	// answered in English, with the English frame.
	resp, err := r.Handle(context.Background(), &Request{Platform: "t", ChatID: "c", UserID: "u", Lang: "fr",
		Text: "How long is a post-graduation work permit valid?"})
	if err != nil || len(resp.Replies) == 0 {
		t.Fatalf("%v %+v", err, resp)
	}
	if rep := resp.Replies[0]; rep.Topic != "pgwp" || !strings.Contains(rep.Text, "Post-Graduation Work Permit") {
		t.Errorf("French-locale user writing English got: %s %q", rep.Topic, rep.Text)
	}
	resp, _ = r.Handle(context.Background(), &Request{Platform: "t", ChatID: "c", UserID: "u", Lang: "fr", Text: "/help"})
	if !strings.Contains(resp.Replies[0].Text, "Ce que je peux faire") {
		t.Errorf("French locale, /help: %q", resp.Replies[0].Text)
	}
}

// TestFrenchTypography: French replies put a space before the colon after
// "Sources", and French titles a space before "?".
func TestFrenchTypography(t *testing.T) {
	r := newTestRouter(t, Options{})
	resp, err := r.Handle(context.Background(), &Request{Platform: "t", ChatID: "c", UserID: "u", Lang: "fr", Action: ArticleAction("imp-overview")})
	if err != nil || len(resp.Replies) == 0 {
		t.Fatal(err)
	}
	text := resp.Replies[0].Text
	if !strings.Contains(text, "Sources : ") || strings.Contains(text, "Sources:") || !strings.Contains(text, "(PMI) ?**") {
		t.Errorf("French typography:\n%s", text)
	}
	resp, _ = r.Handle(context.Background(), &Request{Platform: "t", ChatID: "c", UserID: "u", Lang: "en", Action: ArticleAction("imp-overview")})
	if !strings.Contains(resp.Replies[0].Text, "Sources: ") {
		t.Errorf("English sources line:\n%s", resp.Replies[0].Text)
	}
}

// TestRouterSuggest: the adapters' autocomplete asks the router, which
// completes from the knowledge in use.
func TestRouterSuggest(t *testing.T) {
	r := newTestRouter(t, Options{})
	got := r.Suggest(context.Background(), "en", "spous", 3)
	if len(got) == 0 || !strings.HasPrefix(got[0].ID, "spousal-") || !strings.Contains(strings.ToLower(got[0].Text), "spous") {
		t.Fatalf("Suggest(spous) = %+v", got)
	}
	if got := r.Suggest(context.Background(), "fr", "", 3); len(got) != 3 {
		t.Errorf("Suggest(\"\") = %+v, want 3 titles to start from", got)
	}
}

// unavailableDialogue is a dialogue whose store is unreachable.
type unavailableDialogue struct{}

func (unavailableDialogue) Start(context.Context, *Request) (*Response, error) {
	return nil, fmt.Errorf("load dialogue: %w", ErrUnavailable)
}

func (unavailableDialogue) Handle(context.Context, *Request, Handler) (*Response, bool, error) {
	return nil, false, fmt.Errorf("load dialogue: %w", ErrUnavailable)
}

func TestRouterDegradesWhenTheStoreIsUnavailable(t *testing.T) {
	r := newTestRouter(t, Options{})
	r.SetDialogue(unavailableDialogue{})
	ctx := context.Background()
	ask := func(req *Request) Reply {
		t.Helper()
		resp, err := r.Handle(ctx, req)
		if err != nil || resp == nil || len(resp.Replies) == 0 {
			t.Fatalf("%+v: %v %v", req, resp, err)
		}
		return resp.Replies[0]
	}
	// A FAQ question is answered from the knowledge.
	if rep := ask(&Request{Platform: "t", ChatID: "1", UserID: "1", Text: "how much is the employer compliance fee"}); rep.Topic != "employer-compliance-fee" {
		t.Fatalf("FAQ answer while degraded: topic %q", rep.Topic)
	}
	// A dialogue answer, a dialogue button and /eligibility say it is briefly unavailable.
	for _, req := range []*Request{
		{Platform: "t", ChatID: "1", UserID: "1", Text: "1"},
		{Platform: "t", ChatID: "1", UserID: "1", Action: ActDialogue + "role=worker"},
		{Platform: "t", ChatID: "1", UserID: "1", Text: "/eligibility"},
		{Platform: "t", ChatID: "1", UserID: "1", Text: "/back"},
	} {
		if rep := ask(req); !strings.Contains(rep.Text, "briefly unavailable") {
			t.Fatalf("%+v while degraded: %q", req, rep.Text)
		}
	}
	if rep := ask(&Request{Platform: "t", ChatID: "1", UserID: "1", Lang: "fr", Text: "/eligibility"}); !strings.Contains(rep.Text, "brièvement indisponible") {
		t.Fatalf("French: %q", rep.Text)
	}
}

// TestFrenchEmojiQuestions: emoji-only questions from a French-speaking
// user (the platform's locale says fr) and emoji mixed with French words
// (no locale: the words decide) are read as French, through emoji.yaml's
// French words, and reach the article they ask about, answered in French.
func TestFrenchEmojiQuestions(t *testing.T) {
	r := newTestRouter(t, Options{})
	for _, c := range []struct {
		locale, text string
		want         []string // the answered article is one of these
	}{
		{"fr", "🎓 ➡️ 💼 🇨🇦", []string{"pgwp"}},
		{"fr", "👶 🏫 🇨🇦 ?", []string{"family-members-children"}},
		{"fr", "🔄 💼 🇨🇦 ?", []string{"extensions-maintained-status"}},
		{"fr", "🛂 💼 🇺🇸", []string{"port-of-entry-and-flagpoling"}},
		{"fr", "⏳ 💼", []string{"processing-times"}},
		{"fr", "💍 💼", []string{"spousal-owp-workers"}},
		{"", "💍 ➡️ 🇨🇦 permis de travail ?", []string{"spousal-owp-workers"}},
		{"", "🎓 PTPD ⏳", []string{"pgwp", "processing-times"}},
		{"", "💸 permis ouvert", []string{"worker-fees"}},
		{"", "💍 🧑‍🎓 permis ouvert ?", []string{"spousal-owp-students"}},
		{"", "👩‍💻 🇲🇽 ACEUM ?", []string{"cusma-professionals"}},
	} {
		req := &Request{Platform: "t", ChatID: "c", UserID: "u", Lang: c.locale, Text: c.text}
		if l := RequestLang(req); l != "fr" {
			t.Errorf("%q (locale %q) read as %q", c.text, c.locale, l)
			continue
		}
		resp, err := r.Handle(context.Background(), req)
		if err != nil || len(resp.Replies) == 0 {
			t.Fatalf("%q: %v %+v", c.text, err, resp)
		}
		rep := resp.Replies[0]
		if !slices.Contains(c.want, rep.Topic) {
			t.Errorf("%q answered %q (confidence %.3f, suggestions %v), want one of %v", c.text, rep.Topic, rep.Score, rep.Suggestions, c.want)
			continue
		}
		if a := r.Index().Base().Article("fr", rep.Topic); !strings.Contains(rep.Text, a.Title) {
			t.Errorf("%q: not answered with the French article:\n%s", c.text, rep.Text)
		}
	}
}
