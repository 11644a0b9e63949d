// Package dialogue runs the guided eligibility questionnaire: it asks the
// questions of knowledge/eligibility.yaml one at a time, only those still
// needed to decide, reads answers leniently (buttons, labels, option
// numbers, yes/no/oui/non, ages, countries by name, demonym or code) and
// ends with the IMP streams that may fit, each with a button to its article.
//
// The engine implements bot.Dialogue; its state lives in a session.Store, so
// a dialogue survives a restart when the store is persistent.
package dialogue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/impbot/impbot/bot"
	"github.com/impbot/impbot/bot/session"
)

// Options configure an Engine.
type Options struct {
	// Store keeps the dialogue state per session (required).
	Store session.Store
	// Notice returns the not-legal-advice line with the contact, in
	// Markdown (bot.Router.Notice). Without it, a plain notice is used.
	Notice func(lang string) string
	Log    *slog.Logger
}

// Engine runs eligibility dialogues. It is safe for concurrent use; requests
// of one session are handled one at a time.
type Engine struct {
	rules  atomic.Pointer[Rules]
	store  session.Store
	notice func(lang string) string
	log    *slog.Logger
	// probe, when the store has one, tells without a lock that a session
	// has no state: a message from a user with no dialogue then takes
	// neither the session's lock nor any lock of the store.
	probe session.Prober
	locks [lockStripes]lockStripe
}

// lockStripes is the number of per-session locks (sessions share them by
// hash).
const lockStripes = 256

// lockStripe is one per-session lock. busy counts the requests holding or
// waiting for it: noState checks it is zero before asking the store's
// probe, so a request that arrives while a Start is under way (and has not
// written its state yet) waits for it, as it would on the lock.
type lockStripe struct {
	mu   sync.Mutex
	busy atomic.Int32
	_    [52]byte // one stripe per cache line
}

var _ bot.Dialogue = (*Engine)(nil)

// New returns an engine asking the questions of r.
func New(r *Rules, opt Options) (*Engine, error) {
	if r == nil {
		return nil, errors.New("dialogue: no rules")
	}
	if opt.Store == nil {
		return nil, errors.New("dialogue: no session store")
	}
	e := &Engine{store: opt.Store, notice: opt.Notice, log: opt.Log}
	e.probe, _ = opt.Store.(session.Prober)
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	e.rules.Store(r)
	return e, nil
}

// SetRules replaces the rules (hot reload). Dialogues in progress go on with
// the new rules: answers to questions that no longer exist are dropped.
func (e *Engine) SetRules(r *Rules) {
	if r != nil {
		e.rules.Store(r)
	}
}

// Rules returns the rules in use.
func (e *Engine) Rules() *Rules { return e.rules.Load() }

// stateVersion is the version of the stored state's layout.
const stateVersion = 1

// state is what the engine keeps per session.
type state struct {
	V     int               `json:"v"`
	Lang  string            `json:"lang"`
	Facts map[string]string `json:"facts"`
	// Order lists the answered facts, oldest first (for back).
	Order []string `json:"order,omitempty"`
	// Ask is the fact being asked.
	Ask string `json:"ask"`
	// Clar holds the countries offered after an ambiguous answer.
	Clar []string `json:"clar,omitempty"`
	// Miss counts the answers in a row to Ask that could not be read.
	Miss int `json:"miss,omitempty"`
	// Done is set when the dialogue has ended with a result; only
	// /summary still reads the state (until /forget or the idle timeout).
	Done bool `json:"done,omitempty"`
	// Summary is the summary of a finished dialogue.
	Summary string `json:"summary,omitempty"`
}

func (e *Engine) stripe(key string) *lockStripe {
	h := uint32(2166136261) // FNV-1a, without allocating
	for i := 0; i < len(key); i++ {
		h ^= uint32(key[i])
		h *= 16777619
	}
	return &e.locks[h%uint32(len(e.locks))]
}

// lock takes the lock of key's session; unlock the returned stripe.
func (e *Engine) lock(key string) *lockStripe {
	s := e.stripe(key)
	s.busy.Add(1) // before waiting: noState must see a request under way
	s.mu.Lock()
	return s
}

func (s *lockStripe) unlock() {
	s.mu.Unlock()
	s.busy.Add(-1)
}

// noState reports, without taking any lock, that key's session certainly
// has no dialogue state (false when it cannot tell).
//
// Why a request that follows a Start never misses its state: the Start
// raised busy before taking the lock and lowers it only after its Put
// returned, and the store's filter counts a key before its Put returns.
// So if busy reads zero here, either the Start is over and MayHave sees
// its key, or it had not begun, which is the same as this request taking
// the lock first. (Go's atomics are sequentially consistent.)
func (e *Engine) noState(key string) bool {
	if e.probe == nil {
		return false
	}
	if e.stripe(key).busy.Load() != 0 {
		return false
	}
	return !e.probe.MayHave(key)
}

func (e *Engine) load(ctx context.Context, key string) (*state, bool, error) {
	data, ok, err := e.store.Get(ctx, key)
	if err != nil {
		return nil, false, fmt.Errorf("load dialogue: %w", err)
	}
	if !ok {
		return nil, false, nil
	}
	var st state
	if err := json.Unmarshal(data, &st); err != nil || st.V != stateVersion {
		e.log.Warn("dropping unreadable dialogue state", "user", bot.Pseudonym(key), "err", err)
		if err := e.store.Delete(ctx, key); err != nil {
			return nil, false, fmt.Errorf("drop dialogue state: %w", err)
		}
		return nil, false, nil
	}
	if st.Facts == nil {
		st.Facts = map[string]string{}
	}
	return &st, true, nil
}

func (e *Engine) save(ctx context.Context, key string, st *state) error {
	data, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("save dialogue: %w", err)
	}
	if err := e.store.Put(ctx, key, data); err != nil {
		return fmt.Errorf("save dialogue: %w", err)
	}
	return nil
}

// Active reports whether req's session has a dialogue in progress (a
// finished one, kept only for /summary, is not).
func (e *Engine) Active(ctx context.Context, req *bot.Request) bool {
	key := req.SessionKey()
	if e.noState(key) {
		return false
	}
	st, ok, err := e.load(ctx, key)
	return err == nil && ok && !st.Done
}

func (e *Engine) end(ctx context.Context, key string) error {
	if err := e.store.Delete(ctx, key); err != nil {
		return fmt.Errorf("end dialogue: %w", err)
	}
	return nil
}

// reqLang is the language the request asks for ("" when it does not say).
func reqLang(req *bot.Request) string {
	l := strings.ToLower(req.Lang)
	switch {
	case strings.HasPrefix(l, "fr"):
		return "fr"
	case strings.HasPrefix(l, "en"):
		return "en"
	}
	return ""
}

// Start begins (or restarts) the dialogue for req's session.
func (e *Engine) Start(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	key := req.SessionKey()
	defer e.lock(key).unlock()
	lang := reqLang(req)
	if lang == "" {
		lang = "en"
		if _, _, isCmd := bot.ParseCommand(req.Text); !isCmd && strings.TrimSpace(req.Text) != "" {
			lang = bot.DetectLang(req.Text)
		}
	}
	return e.begin(ctx, key, lang, true, "intro")
}

// begin starts a fresh dialogue and asks the first question.
func (e *Engine) begin(ctx context.Context, key, lang string, started bool, intro string) (*bot.Response, error) {
	st := &state{V: stateVersion, Lang: lang, Facts: map[string]string{}}
	resp, err := e.step(ctx, key, st, e.rules.Load(), e.rules.Load().text(lang, intro))
	if err != nil {
		return nil, err
	}
	if resp.Dialogue != nil {
		resp.Dialogue.Started = started
	}
	return resp, nil
}

// Handle implements bot.Dialogue.
func (e *Engine) Handle(ctx context.Context, req *bot.Request, faq bot.Handler) (*bot.Response, bool, error) {
	key := req.SessionKey()
	if e.noState(key) {
		// No dialogue: only a request to start one is the engine's, and
		// nothing is locked or read for the others (most messages).
		if req.Action != "" {
			return nil, false, nil
		}
		if ok, _ := IsStartRequest(strings.TrimSpace(req.Text)); !ok {
			return nil, false, nil
		}
	}
	defer e.lock(key).unlock()
	st, active, err := e.load(ctx, key)
	if err != nil {
		return nil, false, err
	}
	text := strings.TrimSpace(req.Text)
	if active && st.Done {
		if cmd, _, isCmd := bot.ParseCommand(text); isCmd && cmd == ctlSummary && req.Action == "" {
			return &bot.Response{Replies: []bot.Reply{{Text: st.Summary}}}, true, nil
		}
		active = false // a finished dialogue: the router answers
	}
	if !active {
		if req.Action == "" {
			if ok, l := IsStartRequest(text); ok {
				lang := reqLang(req)
				if lang == "" {
					lang = l
				}
				resp, err := e.begin(ctx, key, lang, true, "intro")
				return resp, err == nil, err
			}
		}
		return nil, false, nil
	}
	if l := reqLang(req); l != "" {
		st.Lang = l
	}
	rules := e.rules.Load()
	if req.Action != "" {
		if !strings.HasPrefix(req.Action, bot.ActDialogue) {
			return nil, false, nil // article, feedback, handoff: the router answers; the dialogue stays
		}
		payload := strings.TrimPrefix(req.Action, bot.ActDialogue)
		// Buttons carry the fact they answer ("d:teer=1"), so a button left
		// from an earlier question cannot answer the current one. A bare
		// value ("d:1") is still accepted for the current question.
		if fact, val, scoped := strings.Cut(payload, "="); scoped && rules.Fact(fact) != nil {
			if fact != st.Ask {
				resp, err := e.step(ctx, key, st, rules, "")
				return resp, err == nil, err
			}
			payload = val
		}
		resp, err := e.answer(ctx, key, st, rules, payload, true, req, faq)
		return resp, err == nil, err
	}
	ctl := ""
	if cmd, _, isCmd := bot.ParseCommand(text); isCmd {
		switch cmd {
		case ctlBack, ctlRestart, ctlCancel, ctlSummary:
			ctl = cmd
		case "stop", "quit":
			ctl = ctlCancel
		default:
			return nil, false, nil // other commands: the router; the dialogue stays
		}
	} else {
		ctl = controlWord(text)
	}
	if ok, _ := IsStartRequest(text); ok && ctl == "" {
		ctl = ctlRestart
	}
	var resp *bot.Response
	switch ctl {
	case ctlSummary:
		f := rules.Fact(st.Ask)
		if f == nil {
			resp, err = e.step(ctx, key, st, rules, "")
			break
		}
		sum := e.summary(rules, st.Facts, st.Order, nil, st.Lang)
		q, ds := e.question(rules, st, f, rules.text(st.Lang, "back_to"))
		resp = &bot.Response{Replies: []bot.Reply{{Text: sum}, q}, Dialogue: ds}
	case ctlBack:
		resp, err = e.back(ctx, key, st, rules)
	case ctlRestart:
		resp, err = e.begin(ctx, key, st.Lang, false, "restarted")
	case ctlCancel:
		if err = e.end(ctx, key); err == nil {
			resp = &bot.Response{
				Replies:  []bot.Reply{{Text: rules.text(st.Lang, "cancelled")}},
				Dialogue: &bot.DialogueState{Done: true, Outcomes: []string{}},
			}
		}
	default:
		resp, err = e.answer(ctx, key, st, rules, text, false, req, faq)
	}
	return resp, err == nil, err
}

// back forgets the last answer and asks that question again.
func (e *Engine) back(ctx context.Context, key string, st *state, rules *Rules) (*bot.Response, error) {
	st.Clar = nil
	if len(st.Order) == 0 {
		return e.step(ctx, key, st, rules, rules.text(st.Lang, "first_question"))
	}
	last := st.Order[len(st.Order)-1]
	st.Order = st.Order[:len(st.Order)-1]
	delete(st.Facts, last)
	return e.step(ctx, key, st, rules, "")
}

// answer reads input as the answer to the current question.
func (e *Engine) answer(ctx context.Context, key string, st *state, rules *Rules, input string, button bool, req *bot.Request, faq bot.Handler) (*bot.Response, error) {
	f := rules.Fact(st.Ask)
	if f == nil {
		return e.step(ctx, key, st, rules, "") // the rules changed under this dialogue
	}
	lang := st.Lang
	var (
		val      string
		ok       bool
		question bool
		hint     string
	)
	switch f.Type {
	case TypeChoice:
		val, ok, question = matchChoice(f, input)
		hint = rules.text(lang, "choose_option")
		if f.hasValue("yes") && f.hasValue("no") {
			hint = rules.text(lang, "answer_yes_no")
		}
	case TypeNumber:
		val, ok, question = matchNumber(f, input)
		hint = fmt.Sprintf(rules.text(lang, "type_number"), f.Min, f.Max)
	case TypeCountry:
		var cands []string
		var typo bool
		val, cands, typo, question = readCountry(st, input, button)
		ok = val != ""
		if !ok && !question && len(cands) > 0 {
			st.Clar = cands
			if err := e.save(ctx, key, st); err != nil {
				return nil, err
			}
			format := rules.text(lang, "which_country")
			if typo {
				format = rules.text(lang, "did_you_mean")
			}
			rep := bot.Reply{Text: fmt.Sprintf(format, clip(plainText(input), 40))}
			for _, c := range cands {
				if co, ok := CountryByCode(c); ok {
					rep.Buttons = append(rep.Buttons, bot.Button{Label: co.DisplayName(lang), Action: bot.ActDialogue + st.Ask + "=" + c})
				}
			}
			rep.Buttons = append(rep.Buttons, e.controls(st, lang)...)
			return &bot.Response{Replies: []bot.Reply{rep}, Dialogue: &bot.DialogueState{Ask: f.Name, Options: []string{}}}, nil
		}
		hint = rules.text(lang, "type_country")
	}
	if ok {
		if val == Unknown && !f.acceptsUnknown() {
			ok = false
		}
	}
	if ok {
		st.Facts[f.Name] = val
		st.Order = append(removeString(st.Order, f.Name), f.Name)
		st.Clar = nil
		st.Miss = 0
		return e.step(ctx, key, st, rules, "")
	}
	if question && !button && faq != nil {
		fresp, err := faq.Handle(ctx, &bot.Request{
			Platform: req.Platform, ChatID: req.ChatID, UserID: req.UserID, Lang: req.Lang, Text: input, Group: req.Group,
		})
		if err != nil {
			return nil, fmt.Errorf("answer a question during the dialogue: %w", err)
		}
		var replies []bot.Reply
		if fresp != nil {
			replies = append(replies, fresp.Replies...)
		}
		if err := e.save(ctx, key, st); err != nil { // restart the idle timer
			return nil, err
		}
		q, ds := e.question(rules, st, f, rules.text(lang, "back_to"))
		return &bot.Response{Replies: append(replies, q), Dialogue: ds}, nil
	}
	st.Miss++
	switch {
	case st.Miss >= 3:
		// Never a trap: after the explanation, a third unreadable answer
		// skips the question (unknown), or takes the first option when
		// the question cannot be left unknown.
		val, pre := Unknown, rules.text(lang, "skipped")
		if !f.acceptsUnknown() {
			val = f.Options[0].Value
			pre = fmt.Sprintf(rules.text(lang, "assumed"), f.Options[0].Label.In(lang))
		}
		st.Facts[f.Name] = val
		st.Order = append(removeString(st.Order, f.Name), f.Name)
		st.Miss = 0
		return e.step(ctx, key, st, rules, pre)
	case st.Miss == 2:
		if err := e.save(ctx, key, st); err != nil {
			return nil, err
		}
		return e.explain(rules, st, f), nil
	}
	if err := e.save(ctx, key, st); err != nil {
		return nil, err
	}
	q, ds := e.question(rules, st, f, rules.text(lang, "not_understood")+" "+hint)
	return &bot.Response{Replies: []bot.Reply{q}, Dialogue: ds}, nil
}

// explain says a question in other words, with examples, a button to the
// article that explains the concept, and a way to skip it.
func (e *Engine) explain(rules *Rules, st *state, f *Fact) *bot.Response {
	lang := st.Lang
	help := f.Help.In(lang)
	if help == "" {
		help = rules.text(lang, "generic_help")
	}
	text := rules.text(lang, "explain_intro") + " " + help
	skip := rules.text(lang, "offer_skip")
	if !f.acceptsUnknown() {
		skip = ""
	}
	rep := bot.Reply{Text: joinText(text, skip)}
	ds := &bot.DialogueState{Ask: f.Name, Options: []string{}}
	if f.Type == TypeChoice {
		ds.Options = f.Values()
		for _, o := range f.Options {
			rep.Buttons = append(rep.Buttons, bot.Button{Label: o.Label.In(lang), Action: bot.ActDialogue + f.Name + "=" + o.Value})
		}
	} else if f.acceptsUnknown() {
		rep.Buttons = append(rep.Buttons, bot.Button{Label: msg(lang, "btn_skip"), Action: bot.ActDialogue + f.Name + "=" + Unknown})
	}
	if f.Article != "" {
		rep.Buttons = append(rep.Buttons, bot.Button{Label: clip(rules.Title(lang, f.Article), 60), Action: bot.ArticleAction(f.Article)})
	}
	rep.Buttons = append(rep.Buttons, e.controls(st, lang)...)
	return &bot.Response{Replies: []bot.Reply{rep}, Dialogue: ds}
}

// readCountry reads a country answer: a button (alpha-2 code), the number
// of a country offered after an ambiguous answer, or typed text.
func readCountry(st *state, input string, button bool) (codes string, cands []string, typo, question bool) {
	if button {
		if c, ok := CountryByCode(input); ok {
			return c.Alpha2, nil, false, false
		}
	}
	if len(st.Clar) > 0 {
		if i, err := strconv.Atoi(strings.TrimSpace(input)); err == nil && i >= 1 && i <= len(st.Clar) {
			return st.Clar[i-1], nil, false, false
		}
	}
	if button && input == Unknown {
		return Unknown, nil, false, false
	}
	r := ResolveCountry(input)
	if len(r.Codes) > 0 {
		return strings.Join(r.Codes, ","), nil, false, false
	}
	if isUnknownAnswer(normalize(input)) && !strings.Contains(input, "?") {
		return Unknown, nil, false, false
	}
	if looksLikeQuestion(input) {
		return "", nil, false, true
	}
	if r.Typo || len(r.Candidates) == 0 {
		// A country inside a sentence: "I'm from Mexico but live in Texas".
		if cs := countriesInText(input); len(cs) > 0 {
			return strings.Join(cs, ","), nil, false, false
		}
	}
	// The same ambiguous answer twice: take the first candidate rather than
	// ask forever (the user can still go back).
	if len(st.Clar) > 0 && len(r.Candidates) > 0 && strings.Join(r.Candidates, ",") == strings.Join(st.Clar, ",") {
		return r.Candidates[0], nil, false, false
	}
	return "", r.Candidates, r.Typo, false
}

// step drops answers the rules no longer know, then ends the dialogue (exit
// or result) or asks the next question. pre is said before the question.
func (e *Engine) step(ctx context.Context, key string, st *state, rules *Rules, pre string) (*bot.Response, error) {
	for name, v := range st.Facts {
		f := rules.Fact(name)
		if f == nil || (f.Type == TypeChoice && !f.hasValue(v)) {
			delete(st.Facts, name)
			st.Order = removeString(st.Order, name)
		}
	}
	ev := rules.evaluate(st.Facts)
	if ex := ev.exit(); ex != nil {
		if err := e.end(ctx, key); err != nil {
			return nil, err
		}
		text := ex.Text.In(st.Lang) + "\n\n" + e.noticeText(st.Lang)
		return &bot.Response{
			Replies:  []bot.Reply{{Text: joinText(pre, text), Buttons: e.endButtons(st.Lang)}},
			Dialogue: &bot.DialogueState{Done: true, Outcomes: []string{}},
		}, nil
	}
	next := ""
	if !ev.done() {
		next = ev.next()
	}
	if next == "" {
		resp, sum := e.result(rules, ev, st, pre)
		done := &state{V: stateVersion, Lang: st.Lang, Facts: st.Facts, Order: st.Order, Done: true, Summary: sum}
		if err := e.save(ctx, key, done); err != nil {
			return nil, err
		}
		return resp, nil
	}
	if st.Ask != next {
		st.Miss = 0
	}
	st.Ask = next
	st.Clar = nil
	if err := e.save(ctx, key, st); err != nil {
		return nil, err
	}
	q, ds := e.question(rules, st, rules.Fact(next), pre)
	return &bot.Response{Replies: []bot.Reply{q}, Dialogue: ds}, nil
}

// question renders the question of f, with its options as buttons.
func (e *Engine) question(rules *Rules, st *state, f *Fact, pre string) (bot.Reply, *bot.DialogueState) {
	text := f.Question.In(st.Lang)
	for _, v := range f.Variants {
		if rules.evaluate(st.Facts).cond(v.When) == yes {
			text = v.Text.In(st.Lang)
			break
		}
	}
	rep := bot.Reply{Text: joinText(pre, text)}
	ds := &bot.DialogueState{Ask: f.Name, Options: []string{}}
	if f.Type == TypeChoice {
		ds.Options = f.Values()
		for _, o := range f.Options {
			rep.Buttons = append(rep.Buttons, bot.Button{Label: o.Label.In(st.Lang), Action: bot.ActDialogue + f.Name + "=" + o.Value})
		}
	}
	rep.Buttons = append(rep.Buttons, e.controls(st, st.Lang)...)
	return rep, ds
}

func (e *Engine) controls(st *state, lang string) []bot.Button {
	var bs []bot.Button
	if len(st.Order) > 0 {
		bs = append(bs, bot.Button{Label: msg(lang, "btn_back"), Action: bot.CommandAction(ctlBack)})
	}
	return append(bs, bot.Button{Label: msg(lang, "btn_cancel"), Action: bot.CommandAction(ctlCancel)})
}

func (e *Engine) endButtons(lang string) []bot.Button {
	return []bot.Button{
		{Label: msg(lang, "btn_again"), Action: bot.CommandAction("eligibility")},
		{Label: bot.Msg(lang, "btn_person"), Action: bot.ActHandoff},
	}
}

func (e *Engine) noticeText(lang string) string {
	if e.notice != nil {
		if s := e.notice(lang); s != "" {
			return s
		}
	}
	return "_" + bot.Msg(lang, "notice") + "_"
}

// result renders the suggestions of a finished dialogue: for each stream
// the facts that made it fit, or the unknown answers it depends on; the
// near misses with the one condition that failed; the next steps. The
// second reply is a summary of the answers and outcomes to keep.
func (e *Engine) result(rules *Rules, ev *evaluation, st *state, pre string) (*bot.Response, string) {
	lang := st.Lang
	sugg := ev.suggestions()
	var b strings.Builder
	rep := bot.Reply{}
	ids := []string{}
	shown := ""
	for _, s := range sugg {
		if s.Kind != shown {
			head := map[string]string{KindLikely: "result_intro", KindPossible: "result_possible", KindNote: "result_notes"}[s.Kind]
			if s.Kind == KindNote && shown == "" {
				head = "" // nothing fits: the fallback speaks for itself
			}
			if head != "" {
				b.WriteString(rules.text(lang, head) + "\n\n")
			}
			shown = s.Kind
		}
		title := rules.Title(lang, s.Outcome)
		sep := colon(lang)
		if strings.HasSuffix(title, "?") || strings.HasSuffix(title, "!") {
			sep = " — " // never "(PMI)?:"
		}
		b.WriteString("**" + title + "**" + sep + s.Rule.Why.In(lang) + "\n")
		if s.Unconfirmed != nil {
			if note := s.Unconfirmed.UnconfirmedNote.In(lang); note != "" {
				b.WriteString(note + "\n")
			}
		}
		if s.Kind != KindNote {
			if r := ev.reasons(s.Rule, lang); r != "" && len(s.Unknown) == 0 {
				b.WriteString("_" + rules.text(lang, "because") + strings.TrimRight(colon(lang), " ") + "_ " + r + "\n")
			}
			if len(s.Unknown) > 0 {
				b.WriteString("_" + rules.text(lang, "depends_on") + strings.TrimRight(colon(lang), " ") + "_ " + ev.factNames(s.Unknown, lang) + "\n")
			}
		}
		if c := s.Rule.Conditions.In(lang); c != "" {
			b.WriteString("_" + rules.text(lang, "key_conditions") + strings.TrimRight(colon(lang), " ") + "_ " + c + "\n")
		}
		b.WriteString("\n")
		ids = append(ids, s.Outcome)
		rep.Buttons = append(rep.Buttons, bot.Button{Label: clip(title, 60), Action: bot.ArticleAction(s.Outcome)})
	}
	misses := ev.nearMisses(lang)
	if len(misses) > 0 {
		b.WriteString(rules.text(lang, "near_misses") + "\n")
		for _, m := range misses {
			b.WriteString("- " + m + "\n")
		}
		b.WriteString("\n")
	}
	b.WriteString(rules.text(lang, "result_outro") + "\n\n" + e.noticeText(lang))
	rep.Text = joinText(pre, b.String())
	rep.Buttons = append(rep.Buttons, e.endButtons(lang)...)
	sum := e.summary(rules, st.Facts, st.Order, ev, lang)
	return &bot.Response{Replies: []bot.Reply{rep, {Text: sum}}, Dialogue: &bot.DialogueState{Done: true, Outcomes: ids}}, sum
}

// summary lists the answers given and, when the dialogue is over (ev not
// nil), the outcomes: one message a person can keep or forward.
func (e *Engine) summary(rules *Rules, facts map[string]string, order []string, ev *evaluation, lang string) string {
	var b strings.Builder
	b.WriteString(rules.text(lang, "summary_title") + "\n\n" + rules.text(lang, "summary_answers") + "\n")
	if len(order) == 0 {
		b.WriteString("- " + rules.text(lang, "summary_none") + "\n")
	}
	for _, name := range order {
		f := rules.Fact(name)
		v, ok := facts[name]
		if f == nil || !ok {
			continue
		}
		b.WriteString("- " + f.name(lang) + colon(lang) + f.valueLabel(lang, v) + "\n")
	}
	if ev == nil {
		return strings.TrimSpace(b.String())
	}
	b.WriteString("\n" + rules.text(lang, "summary_outcomes") + "\n")
	for _, s := range ev.suggestions() {
		line := "- " + rules.Title(lang, s.Outcome) + " (" + rules.text(lang, "kind_"+s.Kind) + ")"
		if len(s.Unknown) > 0 && s.Kind != KindNote {
			line += ", " + rules.text(lang, "depends_short") + colon(lang) + ev.factNames(s.Unknown, lang)
		}
		b.WriteString(line + "\n")
	}
	for _, m := range ev.nearMisses(lang) {
		b.WriteString("- " + rules.text(lang, "kind_miss") + colon(lang) + m + "\n")
	}
	return strings.TrimSpace(b.String())
}

func joinText(pre, text string) string {
	if pre == "" {
		return text
	}
	return pre + "\n\n" + text
}

// clip shortens s to at most n runes, with an ellipsis.
func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// plainText removes Markdown syntax from user text echoed in a reply.
func plainText(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '*', '_', '[', ']', '(', ')', '`', '<', '>', '~', '|', '\n', '\r':
			return ' '
		}
		return r
	}, s)
}

func removeString(list []string, s string) []string {
	out := list[:0:0]
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

// colon is ": " in English and " : " in French (bot.Colon).
func colon(lang string) string { return bot.Colon(lang) }
