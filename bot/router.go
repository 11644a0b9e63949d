package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/impbot/impbot/index"
	"github.com/impbot/impbot/knowledge"
)

// Outcomes of a question, for observers and metrics.
const (
	OutcomeAnswered  = "answered"
	OutcomeRedirect  = "redirect"
	OutcomeUnsure    = "unsure"
	OutcomeUnrelated = "unrelated"
)

// QuestionEvent describes one question the router answered (or not). It
// carries no user identity.
type QuestionEvent struct {
	Time       time.Time
	Platform   string
	Lang       string
	Text       string
	Outcome    string
	Topic      string
	Candidates []index.Hit
	Latency    time.Duration
}

// FeedbackEvent is a 👍 or 👎 on an answer.
type FeedbackEvent struct {
	Time     time.Time
	Platform string
	Topic    string
	Helpful  bool
}

// Observer is told about questions and feedback (for the unanswered-question
// report and metrics). Its methods must be quick and safe for concurrent use.
type Observer interface {
	Question(ev QuestionEvent)
	Feedback(ev FeedbackEvent)
}

// Dialogue runs the guided eligibility questionnaire (see package dialogue).
type Dialogue interface {
	// Start begins (or restarts) the dialogue for the request's session.
	Start(ctx context.Context, req *Request) (*Response, error)
	// Handle processes req when the session has a dialogue in progress:
	// answers, back, restart, cancel. ok is false when no dialogue is active,
	// and the router then handles req itself. faq answers a free question;
	// the dialogue calls it when the user asks something instead of
	// answering, and then repeats its question.
	Handle(ctx context.Context, req *Request, faq Handler) (resp *Response, ok bool, err error)
}

// CountryLeader is implemented by a Dialogue that knows per-country data:
// for an answer to a question naming a country, it returns the line the
// answer leads with (that country's row), or "".
type CountryLeader interface {
	CountryLead(lang string, base *knowledge.Base, a *knowledge.Article, question string) string
}

// Forgetter deletes what a component keeps about one user (for /forget).
type Forgetter interface {
	Forget(ctx context.Context, req *Request) error
}

// Options configure the router.
type Options struct {
	// OrgName and Contact are shown with the not-legal-advice notice.
	OrgName string
	Contact string
	// MaxReplyChars bounds an answer's length so it fits one chat message
	// (Discord allows 2,000). Default 1,900.
	MaxReplyChars int
	// Confident is the confidence from which the top article is answered;
	// Unsure the confidence from which "did you mean" is offered.
	Confident float64
	Unsure    float64
	Log       *slog.Logger
	Observer  Observer
	Dialogue  Dialogue
	Forget    []Forgetter
}

// Default thresholds on the calibrated confidence, chosen by
// cross-validation over the knowledge's own questions (see index/tuned.go).
const (
	DefaultConfident = index.AnswerThreshold
	DefaultUnsure    = index.UnsureThreshold
)

// Router answers requests from every platform.
type Router struct {
	opt   Options
	ix    atomic.Pointer[index.Index]
	parts atomic.Pointer[partsCache] // the articles' rendered parts
}

// NewRouter returns a router answering from ix.
func NewRouter(ix *index.Index, opt Options) *Router {
	if opt.MaxReplyChars <= 0 {
		opt.MaxReplyChars = 1900
	}
	if opt.Confident <= 0 {
		opt.Confident = DefaultConfident
	}
	if opt.Unsure <= 0 {
		opt.Unsure = DefaultUnsure
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	r := &Router{opt: opt}
	r.ix.Store(ix)
	return r
}

// Index returns the index in use.
func (r *Router) Index() *index.Index { return r.ix.Load() }

// Swap replaces the index atomically and returns the previous one. Requests
// in flight finish on the index they started with.
func (r *Router) Swap(ix *index.Index) *index.Index { return r.ix.Swap(ix) }

// SetDialogue plugs in the eligibility dialogue (before serving).
func (r *Router) SetDialogue(d Dialogue) { r.opt.Dialogue = d }

// Suggestion completes a question as it is typed: an article and the title
// or question of it that matches.
type Suggestion struct {
	ID   string
	Text string
}

// Suggest completes a question as it is being typed (Discord's /ask
// autocomplete): up to n suggestions from the knowledge in use, so they
// follow hot reloads.
func (r *Router) Suggest(ctx context.Context, lang, typed string, n int) []Suggestion {
	var out []Suggestion
	for _, s := range r.ix.Load().Suggest(ctx, lang, typed, n) {
		out = append(out, Suggestion{ID: s.ID, Text: s.Text})
	}
	return out
}

// AddForgetter registers a component that keeps user data (before serving).
func (r *Router) AddForgetter(f Forgetter) { r.opt.Forget = append(r.opt.Forget, f) }

// SetObserver plugs in the observer (before serving).
func (r *Router) SetObserver(o Observer) { r.opt.Observer = o }

// Handle answers one request. While the session is in the eligibility
// check, no reply offers to start it ("Check my eligibility").
func (r *Router) Handle(ctx context.Context, req *Request) (*Response, error) {
	resp, err := r.handle(ctx, req)
	if err != nil || resp == nil {
		return resp, err
	}
	if d, ok := r.opt.Dialogue.(interface {
		Active(ctx context.Context, req *Request) bool
	}); ok && d.Active(ctx, req) {
		for i := range resp.Replies {
			resp.Replies[i].Buttons = slices.DeleteFunc(slices.Clone(resp.Replies[i].Buttons), func(b Button) bool {
				return b.Action == CommandAction("eligibility")
			})
		}
	}
	return resp, nil
}

func (r *Router) handle(ctx context.Context, req *Request) (*Response, error) {
	lang := detectLang(req)
	if !utf8.ValidString(req.Text) {
		req.Text = strings.ToValidUTF8(req.Text, " ")
	}
	if cmd, args, ok := ParseCommand(req.Text); ok {
		switch cmd {
		case "start":
			// A deep link (t.me/BOT?start=pgwp) opens that article or the
			// eligibility check; anything else greets.
			switch {
			case args == "eligibility" || args == "eligible" || args == "check":
				if r.opt.Dialogue == nil {
					return r.say(lang, "no_engine", nil), nil
				}
				return r.opt.Dialogue.Start(ctx, &Request{Platform: req.Platform, ChatID: req.ChatID, UserID: req.UserID,
					Lang: req.Lang, Text: "/eligibility", Group: req.Group})
			case args != "":
				if rep, ok := r.ArticleReply(lang, strings.ToLower(args)); ok {
					return &Response{Replies: []Reply{rep}}, nil
				}
			}
			return r.say(lang, "start", r.startButtons(lang)), nil
		case "help":
			return r.say(lang, "help", r.startButtons(lang)), nil
		case "contact":
			return r.contact(lang), nil
		case "forget":
			return r.forget(ctx, req, lang)
		case "eligibility", "eligible", "check":
			if r.opt.Dialogue == nil {
				return r.say(lang, "no_engine", nil), nil
			}
			resp, err := r.opt.Dialogue.Start(ctx, req)
			if errors.Is(err, ErrUnavailable) {
				return r.say(lang, "dialogue_paused", nil), nil
			}
			return resp, err
		}
	}
	if strings.HasPrefix(req.Action, ActCommand) {
		return r.handle(ctx, &Request{Platform: req.Platform, ChatID: req.ChatID, UserID: req.UserID, Lang: req.Lang,
			Text: "/" + strings.TrimPrefix(req.Action, ActCommand), Group: req.Group})
	}
	if r.opt.Dialogue != nil {
		resp, ok, err := r.opt.Dialogue.Handle(ctx, req, HandlerFunc(r.answer))
		if errors.Is(err, ErrUnavailable) {
			return r.degraded(ctx, req, lang)
		}
		if err != nil {
			return nil, fmt.Errorf("dialogue: %w", err)
		}
		if ok {
			return resp, nil
		}
	}
	if cmd, _, ok := ParseCommand(req.Text); ok {
		switch cmd {
		case "cancel", "back", "restart":
			return r.say(lang, "no_dialogue", nil), nil
		default:
			return r.say(lang, "unknown_cmd", nil), nil
		}
	}
	return r.answer(ctx, req)
}

// degraded answers while the session store is unreachable: FAQ answers go
// on; a dialogue answer (a button, a command, or a message the FAQ cannot
// answer with confidence) gets "briefly unavailable".
func (r *Router) degraded(ctx context.Context, req *Request, lang string) (*Response, error) {
	if strings.HasPrefix(req.Action, ActDialogue) {
		return r.say(lang, "dialogue_paused", nil), nil
	}
	if _, _, isCmd := ParseCommand(req.Text); isCmd {
		return r.say(lang, "dialogue_paused", nil), nil
	}
	resp, err := r.answer(ctx, req)
	if err != nil {
		return nil, err
	}
	if req.Action == "" && (len(resp.Replies) == 0 || resp.Replies[0].Topic == "") {
		return r.say(lang, "dialogue_paused", nil), nil
	}
	return resp, nil
}

// replyLang is the language to answer req in: the text's when its common
// words make it clear (detectLang); else, when the text has words that
// only one language's knowledge has ("examen médical obligatoire ?", no
// common word of either language), that language; else the platform's
// locale (tieLang).
func replyLang(ix *index.Index, req *Request) string {
	if l, ok := textLang(req.Text); ok {
		return l
	}
	if req.Action == "" && strings.TrimSpace(req.Text) != "" {
		fr := ix.HasWordsOnlyIn("fr", "en", req.Text)
		en := ix.HasWordsOnlyIn("en", "fr", req.Text)
		switch {
		case fr && !en:
			return "fr"
		case en && !fr:
			return "en"
		}
	}
	return tieLang(req)
}

// answer handles article buttons, feedback and free questions.
func (r *Router) answer(ctx context.Context, req *Request) (*Response, error) {
	ix := r.ix.Load()
	lang := replyLang(ix, req)
	switch {
	case strings.HasPrefix(req.Action, ActArticle):
		id := strings.TrimPrefix(req.Action, ActArticle)
		a := ix.Base().Article(lang, id)
		if a == nil {
			return r.say(lang, "fallback", nil), nil
		}
		return &Response{Replies: []Reply{r.articleReply(lang, a, 1, nil, -1, req.Platform, "")}}, nil
	case strings.HasPrefix(req.Action, ActFeedback):
		rest := strings.TrimPrefix(req.Action, ActFeedback)
		sign, id, _ := strings.Cut(rest, ":")
		if r.opt.Observer != nil && ix.Base().Article(lang, id) != nil {
			r.opt.Observer.Feedback(FeedbackEvent{Time: time.Now(), Platform: req.Platform, Topic: id, Helpful: sign == "+"})
		}
		return r.say(lang, "feedback", nil), nil
	case strings.HasPrefix(req.Action, ActHandoff):
		return r.contact(lang), nil
	case req.Action != "":
		return r.say(lang, "fallback", nil), nil
	}
	text := strings.TrimSpace(req.Text)
	if !hasWordChar(text) && !hasWordChar(ix.EmojiWords(lang, text)) {
		// Nothing to read: no word and no emoji that stands for one.
		return r.say(lang, "empty", nil), nil
	}
	if k := smallTalk(text); k != "" {
		return r.say(lang, k, nil), nil
	}
	start := time.Now()
	if OtherLang(text) != "" {
		// The knowledge is in English and French: a Spanish or
		// Portuguese question would only match by chance (a word
		// borrowed, an acronym). Say so in the four languages; staff see
		// the question among the unanswered ones.
		resp := r.say(lang, "other_lang", r.startButtons(lang))
		if r.opt.Observer != nil {
			r.opt.Observer.Question(QuestionEvent{
				Time: start, Platform: req.Platform, Lang: lang, Text: text, Outcome: OutcomeUnrelated,
				Latency: time.Since(start),
			})
		}
		return resp, nil
	}
	res, err := ix.Search(ctx, lang, text, 6)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	// Short or mixed-language questions ("pvt 35 ans", an English term in a
	// French sentence) may be better matched in another language; the
	// answer is still given in the user's language when it exists. The
	// other language is searched only when the question has words that
	// only its knowledge has: otherwise it cannot find more.
	if res.Top().Confidence < r.opt.Confident {
		for _, other := range ix.Base().Langs() {
			if other == res.Lang || !ix.HasWordsOnlyIn(other, res.Lang, text) {
				continue
			}
			alt, err := ix.Search(ctx, other, text, 6)
			if err == nil && alt.Top().Confidence > res.Top().Confidence {
				res = alt
			}
		}
	}
	top := res.Top()
	var resp *Response
	outcome := OutcomeUnrelated
	switch {
	case top.ID != "" && top.Confidence >= r.opt.Confident:
		a := ix.Base().Article(lang, top.ID)
		outcome = OutcomeAnswered
		if a.Kind == knowledge.KindRedirect {
			outcome = OutcomeRedirect
		}
		// Close runners-up are offered beside the answer.
		var sugg []string
		for _, h := range res.Hits[1:] {
			if h.Confidence >= index.SuggestThreshold && len(sugg) < 2 {
				sugg = append(sugg, h.ID)
			}
		}
		rep := r.articleReply(lang, a, top.Confidence, sugg, top.Section, req.Platform, r.countryLead(lang, ix.Base(), a, text))
		resp = &Response{Replies: []Reply{rep}}
	case top.ID != "" && top.Confidence >= r.opt.Unsure && res.Anchored > 0:
		// "Did you mean" only for a question with one of the domain's own
		// words (index.ChooseThresholds). The top candidate is always
		// offered, runners-up from SuggestThreshold, as the
		// cross-validation counts them.
		outcome = OutcomeUnsure
		rep := Reply{Text: msg(lang, "unsure"), Score: top.Confidence}
		for i, h := range res.Hits {
			if len(rep.Suggestions) == 3 || (i > 0 && h.Confidence < index.SuggestThreshold) {
				break
			}
			a := ix.Base().Article(lang, h.ID)
			rep.Suggestions = append(rep.Suggestions, h.ID)
			rep.Buttons = append(rep.Buttons, Button{Label: a.Title, Action: ArticleAction(h.ID)})
		}
		rep.Buttons = append(rep.Buttons, Button{Label: msg(lang, "btn_person"), Action: ActHandoff})
		resp = &Response{Replies: []Reply{rep}}
	default:
		rep := Reply{Text: msg(lang, "fallback"), Score: top.Confidence, Buttons: r.startButtons(lang)}
		resp = &Response{Replies: []Reply{rep}}
	}
	if r.opt.Observer != nil {
		r.opt.Observer.Question(QuestionEvent{
			Time: start, Platform: req.Platform, Lang: lang, Text: text, Outcome: outcome,
			Topic: resp.Replies[0].Topic, Candidates: res.Hits, Latency: time.Since(start),
		})
	}
	return resp, nil
}

func (r *Router) say(lang, key string, buttons []Button) *Response {
	return &Response{Replies: []Reply{{Text: msg(lang, key), Buttons: buttons}}}
}

func (r *Router) startButtons(lang string) []Button {
	var bs []Button
	if r.opt.Dialogue != nil {
		bs = append(bs, Button{Label: msg(lang, "btn_elig"), Action: CommandAction("eligibility")})
	}
	return append(bs, Button{Label: msg(lang, "btn_person"), Action: ActHandoff})
}

func (r *Router) contactText() string {
	c := strings.TrimSpace(r.opt.Contact)
	if c == "" {
		return ""
	}
	if n := strings.TrimSpace(r.opt.OrgName); n != "" {
		return n + " (" + c + ")"
	}
	return c
}

func (r *Router) contact(lang string) *Response {
	c := r.contactText()
	if c == "" {
		c = msg(lang, "default_contact")
	}
	return &Response{Replies: []Reply{{Text: fmt.Sprintf(msg(lang, "contact_cmd"), c) + "\n\n_" + msg(lang, "notice") + "_"}}}
}

func (r *Router) forget(ctx context.Context, req *Request, lang string) (*Response, error) {
	for _, f := range r.opt.Forget {
		if err := f.Forget(ctx, req); err != nil {
			return nil, fmt.Errorf("forget: %w", err)
		}
	}
	return r.say(lang, "forgot", nil), nil
}

// Notice is the not-legal-advice line with the contact, in Markdown.
func (r *Router) Notice(lang string) string {
	c := r.contactText()
	if c == "" {
		return "_" + msg(lang, "notice") + " " + fmt.Sprintf(msg(lang, "contact"), "/contact") + "_"
	}
	return "_" + msg(lang, "notice") + " " + fmt.Sprintf(msg(lang, "contact"), c) + "_"
}

// ArticleReply renders an article as a chat reply (used by the dialogue too).
func (r *Router) ArticleReply(lang, id string) (Reply, bool) {
	a := r.ix.Load().Base().Article(lang, id)
	if a == nil {
		return Reply{}, false
	}
	return r.articleReply(lang, a, 1, nil, -1, "", ""), true
}

// countryLead is the per-country line for a question, when the dialogue
// provides one.
func (r *Router) countryLead(lang string, base *knowledge.Base, a *knowledge.Article, question string) string {
	if cl, ok := r.opt.Dialogue.(CountryLeader); ok && len(a.CountryGroups) > 0 {
		return cl.CountryLead(lang, base, a, question)
	}
	return ""
}

// articleReply renders an article: the title, the lead (when not empty: the
// row of the asker's country), the summary, then the section that answers
// the question (section ≥ 0) whole, or else the body trimmed to the
// platform's budget, then the sources (short labelled links), the review
// date and the notice. A reply showing one section gets a button for the
// whole article. The terminal ("console") has no length cap.
func (r *Router) articleReply(lang string, a *knowledge.Article, score float64, sugg []string, section int, platform, lead string) Reply {
	parts := r.renderedParts(lang, a, section)
	body, links, partial := parts.body, parts.links, parts.partial
	headLen := len("**") + len(a.Title) + len("**\n") + len(a.Summary)
	if lead != "" {
		headLen += len(lead) + len("\n\n")
	}
	if platform != consolePlatform {
		// Chat platforms: the reply fits one message. The sources are
		// short labelled links, but Discord counts their addresses too.
		headRunes := utf8.RuneCountInString(a.Title) + utf8.RuneCountInString(a.Summary) + len("****\n")
		if lead != "" {
			headRunes += utf8.RuneCountInString(lead) + len("\n\n")
		}
		budget := r.opt.MaxReplyChars - headRunes - parts.tailRunes - 4
		body = fitBody(body, budget, msg(lang, "more"))
	}
	var text strings.Builder
	text.Grow(headLen + len("\n\n") + len(body) + len("\n\n") + len(parts.tail))
	text.WriteString("**")
	text.WriteString(a.Title)
	text.WriteString("**\n")
	if lead != "" {
		text.WriteString(lead)
		text.WriteString("\n\n")
	}
	text.WriteString(a.Summary)
	if body != "" {
		text.WriteString("\n\n")
		text.WriteString(body)
	}
	text.WriteString("\n\n")
	text.WriteString(parts.tail)
	rep := Reply{Text: text.String(), Topic: a.ID, Score: score, Suggestions: sugg}
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

// articleParts are the parts of an article's reply that depend only on the
// article and the knowledge: its body (or one section) with the article
// links rendered, the articles it links to, and its sources and review
// date. They are rendered once per article and section and kept until the
// index is swapped.
type articleParts struct {
	body    string
	links   []string
	partial bool // body is one section
	// tail ends the reply: the sources, the review date and the notice;
	// tailRunes is its length in runes.
	tail      string
	tailRunes int
}

// partsCache holds the rendered parts of the articles of one index.
type partsCache struct {
	ix *index.Index
	m  sync.Map // partsKey -> *articleParts
}

type partsKey struct {
	a       *knowledge.Article
	section int
	lang    string // the reply's language
}

// renderedParts returns the article's parts for the reply with the given
// section (-1, a section that does not exist, or the section of an article
// with only one, means the whole body). Section numbers come from the
// index (Hit.Section), so the kept parts stay few per article.
func (r *Router) renderedParts(lang string, a *knowledge.Article, section int) *articleParts {
	ix := r.ix.Load()
	c := r.parts.Load()
	if c == nil || c.ix != ix {
		fresh := &partsCache{ix: ix}
		if r.parts.CompareAndSwap(c, fresh) {
			c = fresh
		} else if c = r.parts.Load(); c == nil || c.ix != ix {
			c = fresh // swapped again meanwhile: render without keeping
		}
	}
	key := partsKey{a, max(section, -1), lang}
	if p, ok := c.m.Load(key); ok {
		return p.(*articleParts)
	}
	p := renderParts(lang, a, section, ix.Base())
	p.tail += r.Notice(lang)
	p.tailRunes = utf8.RuneCountInString(p.tail)
	if v, loaded := c.m.LoadOrStore(key, p); loaded {
		return v.(*articleParts)
	}
	return p
}

// renderParts renders an article's parts but the notice (section -1: the
// whole body).
func renderParts(lang string, a *knowledge.Article, section int, b *knowledge.Base) *articleParts {
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
	p := &articleParts{tail: tail.String()}
	if secs := a.Sections(); section >= 0 && section < len(secs) && len(secs) > 1 {
		p.body, p.links = renderArticleLinks(secs[section].Text, b, lang)
		p.partial = true
	} else {
		p.body, p.links = renderArticleLinks(a.Body, b, lang)
	}
	return p
}

// sourceLabel names a source by its publisher rather than its domain: chat
// platforms (Discord's AutoMod among them) distrust link texts that look
// like a different address.
func sourceLabel(lang, s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return msg(lang, "src_other")
	}
	host := strings.TrimPrefix(strings.ToLower(u.Host), "www.")
	switch {
	case host == "ircc.canada.ca" || host == "cic.gc.ca" ||
		(host == "canada.ca" && (strings.Contains(u.Path, "immigration-refugees-citizenship") || strings.Contains(u.Path, "immigration-refugies-citoyennete"))):
		return "IRCC"
	case host == "laws-lois.justice.gc.ca":
		return msg(lang, "src_laws")
	case host == "canada.ca" || strings.HasSuffix(host, ".gc.ca"):
		return msg(lang, "src_gc")
	case strings.HasSuffix(host, "quebec.ca") || strings.HasSuffix(host, "gouv.qc.ca"):
		return msg(lang, "src_quebec")
	case host == "college-ic.ca":
		return msg(lang, "src_cicc")
	}
	return msg(lang, "src_other")
}

// fitBody trims Markdown to at most budget runes, keeping whole blocks
// (paragraphs, lists, sections: text between blank lines) in order so that a
// list is never cut in the middle; a block too long for what is left is left
// out. It adds a pointer to the sources when anything was left out. Only when
// no block fits is it cut at a line.
func fitBody(body string, budget int, more string) string {
	if utf8.RuneCountInString(body) <= budget {
		return body
	}
	budget -= utf8.RuneCountInString(more) + 2
	if budget <= 0 {
		return ""
	}
	var out []string
	used := 0
	for _, block := range strings.Split(body, "\n\n") {
		n := utf8.RuneCountInString(block) + 2
		if used+n > budget {
			continue // too long to fit whole: a later, shorter block may
		}
		out = append(out, block)
		used += n
	}
	if len(out) == 0 {
		for _, line := range strings.Split(body, "\n") {
			n := utf8.RuneCountInString(line) + 1
			if used+n > budget {
				break
			}
			out = append(out, line)
			used += n
		}
	}
	s := strings.TrimSpace(strings.Join(out, "\n\n"))
	if s == "" {
		return more
	}
	return s + "\n\n" + more
}

func hasWordChar(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return true
		}
	}
	return false
}

var (
	greetingRE = regexp.MustCompile(`^(hi|hello|hey|hiya|yo|good (morning|afternoon|evening)|bonjour|bonsoir|salut|allo|allô|coucou)( there| all| bot| impbot)?[\s!.,👋🙂😊]*$`)
	thanksRE   = regexp.MustCompile(`^(thanks?( you)?( so much| a lot| very much)?|thx|ty|cheers|merci( beaucoup| bien)?|great,? thanks?|ok,? thanks?|perfect,? thanks?)[\s!.,🙏👍🙂😊]*$`)
)

// smallTalk recognizes a bare greeting or thanks.
func smallTalk(text string) string {
	t := strings.ToLower(strings.TrimSpace(text))
	if utf8.RuneCountInString(t) > 40 {
		return ""
	}
	switch {
	case greetingRE.MatchString(t):
		return "greeting"
	case thanksRE.MatchString(t):
		return "thanks"
	}
	return ""
}
