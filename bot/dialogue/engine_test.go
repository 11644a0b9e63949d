package dialogue

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/impbot/impbot/bot"
	"github.com/impbot/impbot/bot/session"
)

// faqCalls records the questions passed to the FAQ.
type faqCalls struct {
	mu sync.Mutex
	qs []string
}

func (f *faqCalls) Handle(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	f.mu.Lock()
	f.qs = append(f.qs, req.Text)
	f.mu.Unlock()
	return &bot.Response{Replies: []bot.Reply{{Text: "FAQ answer", Topic: "noc-teer"}}}, nil
}

func newEngine(t testing.TB, store session.Store) *Engine {
	t.Helper()
	r, _ := shippedRules(t)
	e, err := New(r, Options{Store: store, Notice: func(lang string) string { return "_NOTICE " + lang + "_" }})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// chat plays the router's part around the engine for one user: /eligibility
// starts, c:<cmd> buttons become /<cmd>, and an unhandled request is the
// router's (nil response).
type chat struct {
	t    testing.TB
	e    *Engine
	faq  bot.Handler
	user string
	lang string
}

func (c *chat) req(text, action string) *bot.Request {
	return &bot.Request{Platform: "test", ChatID: c.user, UserID: c.user, Text: text, Action: action, Lang: c.lang}
}

func (c *chat) do(text, action string) *bot.Response {
	c.t.Helper()
	ctx := context.Background()
	if strings.HasPrefix(action, bot.ActCommand) {
		text, action = "/"+strings.TrimPrefix(action, bot.ActCommand), ""
	}
	if cmd, _, ok := bot.ParseCommand(text); ok && cmd == "eligibility" {
		resp, err := c.e.Start(ctx, c.req(text, ""))
		if err != nil {
			c.t.Fatal(err)
		}
		return resp
	}
	resp, ok, err := c.e.Handle(ctx, c.req(text, action), c.faq)
	if err != nil {
		c.t.Fatal(err)
	}
	if !ok {
		if resp != nil {
			c.t.Fatalf("ok=false with a response")
		}
		return nil
	}
	if resp == nil || resp.Dialogue == nil || len(resp.Replies) == 0 {
		c.t.Fatalf("%q/%q: incomplete response %+v", text, action, resp)
	}
	return resp
}

func (c *chat) say(text string) *bot.Response     { return c.do(text, "") }
func (c *chat) press(action string) *bot.Response { return c.do("", action) }

func asks(t testing.TB, resp *bot.Response, fact string) {
	t.Helper()
	if resp == nil || resp.Dialogue == nil || resp.Dialogue.Done || resp.Dialogue.Ask != fact {
		var d any
		text := ""
		if resp != nil {
			d = resp.Dialogue
			text = resp.Replies[len(resp.Replies)-1].Text
		}
		t.Fatalf("want the question %q, got %+v: %q", fact, d, text)
	}
}

func lastText(resp *bot.Response) string { return resp.Replies[len(resp.Replies)-1].Text }

func TestStartAndOptions(t *testing.T) {
	t.Parallel()
	c := &chat{t: t, e: newEngine(t, session.NewMemory(0)), user: "u"}
	resp := c.say("/eligibility")
	asks(t, resp, "asker")
	if !resp.Dialogue.Started {
		t.Error("Started not set on the first response")
	}
	if got := strings.Join(resp.Dialogue.Options, ","); got != "worker,employer" {
		t.Errorf("options = %s", got)
	}
	bs := resp.Replies[0].Buttons
	if len(bs) != 3 || bs[0].Action != "d:asker=worker" || bs[1].Action != "d:asker=employer" || bs[2].Action != "c:cancel" {
		t.Errorf("buttons = %+v", bs)
	}
	for _, b := range bs {
		if len(b.Action) > 64 {
			t.Errorf("button payload over 64 bytes: %q", b.Action)
		}
	}
	resp = c.press("d:worker")
	asks(t, resp, "citizenship")
	if resp.Dialogue.Started || len(resp.Dialogue.Options) != 0 {
		t.Errorf("second response: %+v", resp.Dialogue)
	}
	if resp.Replies[0].Buttons[0].Action != "c:back" {
		t.Errorf("no back button after an answer: %+v", resp.Replies[0].Buttons)
	}
}

func TestNoDialogueMeansRouter(t *testing.T) {
	t.Parallel()
	c := &chat{t: t, e: newEngine(t, session.NewMemory(0)), user: "u"}
	for _, in := range []string{"hello", "yes", "/back", "what is a PGWP?", "am I eligible for a PGWP?"} {
		if resp := c.say(in); resp != nil {
			t.Errorf("%q without a dialogue was handled: %+v", in, resp.Dialogue)
		}
	}
	if resp := c.press("d:yes"); resp != nil {
		t.Error("a stale dialogue button was handled without a dialogue")
	}
	resp := c.say("am I eligible?")
	asks(t, resp, "asker")
	if !resp.Dialogue.Started {
		t.Error("explicit request: Started not set")
	}
}

func TestBackRestartCancel(t *testing.T) {
	t.Parallel()
	c := &chat{t: t, e: newEngine(t, session.NewMemory(0)), user: "u"}
	asks(t, c.say("/eligibility"), "asker")
	resp := c.say("back")
	asks(t, resp, "asker")
	if !strings.Contains(lastText(resp), "first question") {
		t.Errorf("back at the first question: %q", lastText(resp))
	}
	asks(t, c.say("worker"), "citizenship")
	asks(t, c.say("Ireland"), "age")
	asks(t, c.say("30"), "in_canada")
	asks(t, c.press("c:back"), "age") // a button
	asks(t, c.say("/back"), "citizenship")
	asks(t, c.say("Retour"), "asker") // French, typed
	asks(t, c.say("employer"), "citizenship")
	asks(t, c.say("India"), "in_canada") // not IEC: no age question
	resp = c.say("restart")
	asks(t, resp, "asker")
	if !strings.Contains(resp.Replies[0].Text, "start again") || resp.Dialogue.Started {
		t.Errorf("restart: %q started=%v", resp.Replies[0].Text, resp.Dialogue.Started)
	}
	asks(t, c.say("worker"), "citizenship")
	resp = c.say("/restart")
	asks(t, resp, "asker")
	asks(t, c.say("worker"), "citizenship")
	resp = c.say("cancel")
	if !resp.Dialogue.Done || len(resp.Dialogue.Outcomes) != 0 {
		t.Fatalf("cancel: %+v", resp.Dialogue)
	}
	if resp := c.say("Ireland"); resp != nil {
		t.Fatal("dialogue still active after cancel")
	}
	asks(t, c.say("/eligibility"), "asker")
	if resp := c.say("/cancel"); !resp.Dialogue.Done {
		t.Fatal("/cancel did not end the dialogue")
	}
}

func TestQuestionInsteadOfAnswer(t *testing.T) {
	t.Parallel()
	faq := &faqCalls{}
	c := &chat{t: t, e: newEngine(t, session.NewMemory(0)), user: "u", faq: faq}
	c.say("/eligibility")
	c.say("worker")
	c.say("Ireland")
	c.say("30")
	c.say("no")
	c.say("yes") // job offer
	asks(t, c.say("no"), "teer")
	resp := c.say("What is a TEER category?")
	asks(t, resp, "teer")
	if len(faq.qs) != 1 || faq.qs[0] != "What is a TEER category?" {
		t.Fatalf("FAQ calls: %q", faq.qs)
	}
	if len(resp.Replies) != 2 || resp.Replies[0].Text != "FAQ answer" {
		t.Fatalf("replies: %+v", resp.Replies)
	}
	if !strings.Contains(resp.Replies[1].Text, "Back to the eligibility check") || len(resp.Replies[1].Buttons) < 7 {
		t.Errorf("question not repeated with its buttons: %+v", resp.Replies[1])
	}
	// Not a question and not an answer: a re-ask with a hint, no FAQ.
	resp = c.say("banana")
	asks(t, resp, "teer")
	if len(faq.qs) != 1 || !strings.Contains(lastText(resp), "didn't understand") {
		t.Errorf("bad answer: FAQ %q, reply %q", faq.qs, lastText(resp))
	}
	// A stale button for another question is not taken as this answer.
	asks(t, c.press("d:employer"), "teer")
	asks(t, c.say("1"), "service_contract") // Ireland: CETA service suppliers
}

func TestAgeAndCountryClarification(t *testing.T) {
	t.Parallel()
	c := &chat{t: t, e: newEngine(t, session.NewMemory(0)), user: "u", faq: &faqCalls{}}
	c.say("/eligibility")
	c.say("worker")
	resp := c.say("IN")
	asks(t, resp, "citizenship")
	if !strings.Contains(lastText(resp), "Which country") || resp.Replies[0].Buttons[0].Action != "d:citizenship=IN" {
		t.Fatalf("clarification: %q %+v", lastText(resp), resp.Replies[0].Buttons)
	}
	asks(t, c.say("1"), "in_canada") // the first offered country: India
	c.say("back")
	resp = c.say("Congo")
	asks(t, resp, "citizenship")
	if n := len(resp.Replies[0].Buttons); n != 4 { // 2 countries, back, cancel
		t.Fatalf("Congo: %d buttons %+v", n, resp.Replies[0].Buttons)
	}
	asks(t, c.press("d:CD"), "in_canada")
	c.say("back")
	resp = c.say("Irland")
	if !strings.Contains(lastText(resp), "Did you mean") || resp.Replies[0].Buttons[0].Action != "d:citizenship=IE" {
		t.Fatalf("typo: %q %+v", lastText(resp), resp.Replies[0].Buttons)
	}
	asks(t, c.press("d:IE"), "age")
	resp = c.say("300")
	asks(t, resp, "age")
	if !strings.Contains(lastText(resp), "between 15 and 99") {
		t.Errorf("bad age: %q", lastText(resp))
	}
	asks(t, c.say("I'm 45"), "in_canada") // too old for IEC: fine, go on
}

func TestArticleButtonsPassThrough(t *testing.T) {
	t.Parallel()
	c := &chat{t: t, e: newEngine(t, session.NewMemory(0)), user: "u"}
	c.say("/eligibility")
	asks(t, c.say("worker"), "citizenship")
	for _, a := range []string{bot.ArticleAction("pgwp"), "f:+:pgwp", bot.ActHandoff} {
		if resp := c.press(a); resp != nil {
			t.Errorf("%s was handled by the dialogue", a)
		}
	}
	if resp := c.say("/help"); resp != nil {
		t.Error("/help was handled by the dialogue")
	}
	asks(t, c.say("Mexico"), "in_canada") // the dialogue went on
}

func TestExitForCanadians(t *testing.T) {
	t.Parallel()
	c := &chat{t: t, e: newEngine(t, session.NewMemory(0)), user: "u"}
	c.say("/eligibility")
	c.say("worker")
	resp := c.say("Canadian")
	if !resp.Dialogue.Done || len(resp.Dialogue.Outcomes) != 0 || !strings.Contains(lastText(resp), "don't need a work permit") {
		t.Fatalf("Canadian: %+v %q", resp.Dialogue, lastText(resp))
	}
	if !strings.Contains(lastText(resp), "NOTICE") {
		t.Error("exit without the notice")
	}
}

func TestFrenchDialogue(t *testing.T) {
	t.Parallel()
	c := &chat{t: t, e: newEngine(t, session.NewMemory(0)), user: "u", lang: "fr"}
	resp := c.say("/eligibility")
	if !strings.Contains(lastText(resp), "employeur") || resp.Replies[0].Buttons[1].Label != "Je suis un employeur" {
		t.Fatalf("French start: %q %+v", lastText(resp), resp.Replies[0].Buttons)
	}
	asks(t, c.say("oui c'est moi, travailleur"), "citizenship")
	resp = c.say("Irlande")
	asks(t, resp, "age")
	if !strings.Contains(lastText(resp), "Quel âge") {
		t.Errorf("French question: %q", lastText(resp))
	}
}

// play answers every question from profile (canonical values; countries as
// typed) and returns the outcomes and the facts asked.
func play(t testing.TB, c *chat, profile map[string]string) (outcomes, asked []string) {
	t.Helper()
	resp := c.say("/eligibility")
	for i := 0; i < 40; i++ {
		if resp == nil {
			t.Fatalf("the dialogue vanished after %v", asked)
		}
		if resp.Dialogue.Done {
			return resp.Dialogue.Outcomes, asked
		}
		f := resp.Dialogue.Ask
		if len(asked) > 0 && asked[len(asked)-1] == f {
			t.Fatalf("answer to %s refused: %q", f, lastText(resp))
		}
		asked = append(asked, f)
		v, ok := profile[f]
		if !ok {
			t.Fatalf("asked %s, not in the profile", f)
		}
		if contains(resp.Dialogue.Options, v) {
			resp = c.press(bot.ActDialogue + v)
		} else {
			resp = c.say(v)
		}
	}
	t.Fatal("dialogue did not end")
	return nil, nil
}

func base(over map[string]string) map[string]string {
	p := map[string]string{
		"asker": "worker", "citizenship": "India", "age": "30", "in_canada": "no", "job_offer": "no", "teer": "unknown",
		"job_in_quebec": "no", "short_visit": "no", "related_company_year": "no", "role": "other", "french": "no",
		"work_kind": "standard", "canadian_graduate": "no", "pr_applicant": "no", "abuse": "no", "spouse": "none",
		"listed_profession": "no", "service_contract": "no", "visit_kind": "business_visitor", "exceptional": "no",
	}
	for k, v := range over {
		p[k] = v
	}
	return p
}

func TestOnlyNeededQuestions(t *testing.T) {
	t.Parallel()
	e := newEngine(t, session.NewMemory(0))
	never := func(asked []string, facts ...string) {
		t.Helper()
		for _, f := range facts {
			if contains(asked, f) {
				t.Errorf("asked %s (questions: %v)", f, asked)
			}
		}
	}
	_, asked := play(t, &chat{t: t, e: e, user: "employer"}, base(map[string]string{"asker": "employer", "job_offer": "yes", "teer": "1"}))
	never(asked, "spouse", "abuse")
	_, asked = play(t, &chat{t: t, e: e, user: "no-offer"}, base(nil))
	// work_kind is still asked: a business owner (C11) has no job offer
	// from someone else.
	never(asked, "age", "teer", "related_company_year", "role", "french", "job_in_quebec", "pr_applicant", "abuse")
	out, _ := play(t, &chat{t: t, e: e, user: "owner"}, base(map[string]string{"citizenship": "Brazil", "age": "45", "work_kind": "own_business"}))
	if !contains(out, "entrepreneurs-c11") {
		t.Errorf("a business owner without a job offer did not get entrepreneurs-c11: %v", out)
	}
	_, asked = play(t, &chat{t: t, e: e, user: "old-irish"}, base(map[string]string{"citizenship": "Irish", "age": "45"}))
	if !contains(asked, "age") {
		t.Error("an Irish citizen was not asked the age (IEC)")
	}
	out, asked = play(t, &chat{t: t, e: e, user: "related"}, base(map[string]string{"job_offer": "yes", "related_company_year": "yes", "role": "specialized_knowledge", "teer": "1"}))
	if !contains(asked, "role") || !contains(out, "intra-company-transferees") || !contains(out, "global-skills-strategy") {
		t.Errorf("ICT path: asked %v, outcomes %v", asked, out)
	}
	_, asked = play(t, &chat{t: t, e: e, user: "french-quebec"}, base(map[string]string{"job_offer": "yes", "french": "no"}))
	never(asked, "job_in_quebec", "role")
}

func TestOutcomes(t *testing.T) {
	t.Parallel()
	e := newEngine(t, session.NewMemory(0))
	cases := []struct {
		name      string
		profile   map[string]string
		want, not []string
	}{
		{"nothing fits", base(nil), []string{"lmia-vs-imp"}, []string{"iec-overview", "employer-steps-portal"}},
		{"IEC at the limit", base(map[string]string{"citizenship": "Japanese", "age": "30"}), []string{"iec-overview"}, []string{"lmia-vs-imp"}},
		{"IEC over the limit", base(map[string]string{"citizenship": "Japan", "age": "31"}), []string{"lmia-vs-imp"}, []string{"iec-overview"}},
		{"IEC under 18", base(map[string]string{"citizenship": "Australia", "age": "17"}), nil, []string{"iec-overview"}},
		{"dual citizenship", base(map[string]string{"citizenship": "Indian and Irish", "age": "33"}), []string{"iec-overview"}, nil},
		{"employer closed stream", base(map[string]string{"asker": "employer", "citizenship": "Chile", "job_offer": "yes", "teer": "1", "age": "40", "listed_profession": "yes"}),
			[]string{"cptpp", "other-ftas", "global-skills-strategy", "employer-steps-portal"}, []string{"lmia-vs-imp"}},
		{"employer nothing fits", base(map[string]string{"asker": "employer", "job_offer": "yes", "teer": "4"}),
			[]string{"lmia-vs-imp"}, []string{"employer-steps-portal", "significant-benefit-c10"}},
		{"exceptional case", base(map[string]string{"job_offer": "yes", "teer": "0", "exceptional": "yes"}), []string{"lmia-vs-imp", "significant-benefit-c10"}, []string{"global-skills-strategy"}},
		{"francophone in Quebec", base(map[string]string{"job_offer": "yes", "french": "yes", "job_in_quebec": "yes"}), nil, []string{"francophone-mobility-c16"}},
		{"employer hiring a graduate", base(map[string]string{"asker": "employer", "in_canada": "yes", "canadian_graduate": "yes"}),
			[]string{"pgwp"}, []string{"lmia-vs-imp", "employer-steps-portal"}},
		{"religious", base(map[string]string{"job_offer": "yes", "work_kind": "religious"}), []string{"charitable-religious"}, nil},
		{"academic", base(map[string]string{"job_offer": "yes", "work_kind": "academic"}), []string{"academic-research"}, nil},
		{"business visitor without offer", base(map[string]string{"short_visit": "yes"}), []string{"business-visitors"}, []string{"lmia-vs-imp", "gss-short-term-exemption"}},
		{"spouse of a student", base(map[string]string{"spouse": "graduate_student"}), []string{"spousal-owp-students"}, nil},
		{"abuse outside Canada", base(map[string]string{"abuse": "yes"}), nil, []string{"vulnerable-worker-owp"}},
		{"US trader", base(map[string]string{"citizenship": "USA", "job_offer": "yes", "teer": "0", "work_kind": "own_business", "listed_profession": "yes"}),
			[]string{"cusma-professionals", "entrepreneurs-c11", "cusma-ict-traders-investors"}, nil},
	}
	for i, c := range cases {
		out, _ := play(t, &chat{t: t, e: e, user: fmt.Sprint("o", i)}, c.profile)
		for _, w := range c.want {
			if !contains(out, w) {
				t.Errorf("%s: missing %s in %v", c.name, w, out)
			}
		}
		for _, n := range c.not {
			if contains(out, n) {
				t.Errorf("%s: unexpected %s in %v", c.name, n, out)
			}
		}
	}
}

func TestResultMessage(t *testing.T) {
	t.Parallel()
	c := &chat{t: t, e: newEngine(t, session.NewMemory(0)), user: "u"}
	profile := base(map[string]string{"citizenship": "German", "age": "44", "job_offer": "yes", "teer": "1", "service_contract": "yes", "exceptional": "yes"})
	resp := c.say("/eligibility")
	for !resp.Dialogue.Done {
		resp = c.say(profile[resp.Dialogue.Ask])
	}
	rep := resp.Replies[0]
	got := strings.Join(resp.Dialogue.Outcomes, ",")
	if got != "ceta-cuktca,significant-benefit-c10,lmia-vs-imp,professional-help" {
		t.Errorf("outcomes in order = %s", got)
	}
	for _, want := range []string{"Worth checking", "Key conditions", "NOTICE en", "canada.ca"} {
		if !strings.Contains(rep.Text, want) {
			t.Errorf("result lacks %q:\n%s", want, rep.Text)
		}
	}
	var acts []string
	for _, b := range rep.Buttons {
		acts = append(acts, b.Action)
	}
	if strings.Join(acts, " ") != "a:ceta-cuktca a:significant-benefit-c10 a:lmia-vs-imp a:professional-help c:eligibility h:" {
		t.Errorf("buttons = %v", acts)
	}
	if rep.Buttons[0].Label == "ceta-cuktca" {
		t.Error("button label is the ID, not the article title")
	}
	// The dialogue is over: the next message is the router's.
	if c.say("yes") != nil {
		t.Error("dialogue still active after the result")
	}
}

// TestResumeAfterRestart interrupts a dialogue by closing the bbolt file and
// building a new engine, as a restart of the bot does.
func TestResumeAfterRestart(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sessions.db")
	open := func() (*bbolt.DB, *Engine) {
		db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		st, err := session.NewBolt(db, 30*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return db, newEngine(t, st)
	}
	profile := base(map[string]string{"citizenship": "United Kingdom", "age": "35"})
	db, e := open()
	c := &chat{t: t, e: e, user: "restart"}
	c.say("/eligibility")
	c.say("worker")
	asks(t, c.say(profile["citizenship"]), "age")
	asks(t, c.say("35"), "in_canada")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, e = open()
	defer db.Close()
	c.e = e
	resp := c.say("no") // answers the question asked before the restart
	asks(t, resp, "job_offer")
	for !resp.Dialogue.Done {
		resp = c.say(profile[resp.Dialogue.Ask])
	}
	if got := resp.Dialogue.Outcomes; len(got) != 1 || got[0] != "iec-overview" {
		t.Fatalf("after a restart: %v, want the answers from before it kept (iec-overview)", got)
	}
}

// TestConcurrentUsers runs 1,000 users through dialogues at once (200 with
// the sessions in bbolt; a quarter of each under -race); each must get the
// outcomes of its own profile.
func TestConcurrentUsers(t *testing.T) {
	t.Parallel()
	profiles := []map[string]string{
		base(map[string]string{"citizenship": "Irish", "age": "32"}),
		base(map[string]string{"citizenship": "USA", "job_offer": "yes", "teer": "1"}),
		base(map[string]string{"asker": "employer", "citizenship": "Mexico", "job_offer": "yes", "teer": "0", "related_company_year": "yes", "role": "executive_manager"}),
		base(map[string]string{"in_canada": "yes", "canadian_graduate": "yes"}),
		base(map[string]string{"in_canada": "yes", "abuse": "yes", "job_offer": "yes", "teer": "4"}),
		base(nil),
		base(map[string]string{"spouse": "skilled_worker", "citizenship": "Nigeria"}),
	}
	want := make([]string, len(profiles))
	ref := newEngine(t, session.NewMemory(0))
	for i, p := range profiles {
		out, _ := play(t, &chat{t: t, e: ref, user: fmt.Sprint("ref", i)}, p)
		want[i] = strings.Join(out, ",")
	}
	run := func(t *testing.T, e *Engine, users int) {
		var wg sync.WaitGroup
		errs := make(chan string, users)
		for u := range users {
			wg.Go(func() {
				ct := &recorder{TB: t}
				defer func() {
					if r := recover(); r != nil {
						if _, ok := r.(stop); !ok {
							panic(r)
						}
						errs <- fmt.Sprintf("user %d: %s", u, ct.msg)
					}
				}()
				p := u % len(profiles)
				out, _ := play(ct, &chat{t: ct, e: e, user: fmt.Sprint("user", u)}, profiles[p])
				if got := strings.Join(out, ","); got != want[p] {
					errs <- fmt.Sprintf("user %d (profile %d): %s, want %s", u, p, got, want[p])
				}
			})
		}
		wg.Wait()
		close(errs)
		n := 0
		for msg := range errs {
			if n++; n <= 5 {
				t.Error(msg)
			}
		}
		if n > 0 {
			t.Errorf("%d of %d users got someone else's state", n, users)
		}
	}
	// Under -race a quarter of the users (raceBuild); CI also runs the
	// whole test without -race.
	memUsers, boltUsers := 1000, 200
	if raceBuild {
		memUsers, boltUsers = 250, 50
	}
	t.Run("memory", func(t *testing.T) { run(t, newEngine(t, session.NewMemory(0)), memUsers) })
	t.Run("bolt", func(t *testing.T) {
		db, err := bbolt.Open(filepath.Join(t.TempDir(), "s.db"), 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		st, err := session.NewBolt(db, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		run(t, newEngine(t, st), boltUsers)
	})
}

// recorder is a testing.TB for goroutines: Fatal records and stops the
// goroutine instead of the test.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	failed bool
	msg    string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatal(args ...any) {
	r.mu.Lock()
	r.failed, r.msg = true, fmt.Sprint(args...)
	r.mu.Unlock()
	panic(stop{})
}
func (r *recorder) Fatalf(format string, args ...any) { r.Fatal(fmt.Sprintf(format, args...)) }

// stop is the panic value of recorder.Fatal, recovered in the goroutine.
type stop struct{}

func TestCorruptStateIsDropped(t *testing.T) {
	t.Parallel()
	st := session.NewMemory(0)
	c := &chat{t: t, e: newEngine(t, st), user: "u"}
	key := c.req("", "").SessionKey()
	st.Put(context.Background(), key, []byte("{not json"))
	if resp := c.say("yes"); resp != nil {
		t.Fatal("corrupt state handled as a dialogue")
	}
	if _, ok, _ := st.Get(context.Background(), key); ok {
		t.Error("corrupt state kept")
	}
	asks(t, c.say("/eligibility"), "asker")
}

func TestStaleButtonDoesNotAnswerALaterQuestion(t *testing.T) {
	t.Parallel()
	c := &chat{t: t, e: newEngine(t, session.NewMemory(0)), user: "u", faq: &faqCalls{}}
	resp := c.say("/eligibility")
	asks(t, resp, "asker")
	stale := resp.Replies[0].Buttons[1].Action // "I'm an employer", from the first question
	resp = c.press(resp.Replies[0].Buttons[0].Action)
	next := resp.Dialogue.Ask
	if next == "asker" {
		t.Fatal("the first answer was not taken")
	}
	// Pressing the old button again must not answer the current question:
	// the current question is asked again.
	asks(t, c.press(stale), next)
	// A bare value (no fact) still answers the current question.
	if f := c.e.rules.Load().Fact(next); f != nil && f.Type == TypeChoice {
		resp = c.press(bot.ActDialogue + f.Options[0].Value)
		if resp.Dialogue != nil && resp.Dialogue.Ask == next {
			t.Fatalf("bare value %q was not accepted for %s", f.Options[0].Value, next)
		}
	}
}

func TestRepeatedAmbiguousCountryIsResolved(t *testing.T) {
	t.Parallel()
	c := &chat{t: t, e: newEngine(t, session.NewMemory(0)), user: "u", faq: &faqCalls{}}
	c.say("/eligibility")
	c.say("worker")
	asks(t, c.say("Congo"), "citizenship") // which Congo?
	resp := c.say("Congo")                 // the same answer again: take the first candidate
	if resp.Dialogue == nil || resp.Dialogue.Ask == "citizenship" {
		t.Fatalf("the dialogue is stuck on the ambiguous country: %+v", resp.Dialogue)
	}
}

// A finished dialogue is kept only for /summary: it is not active, so the
// router keeps the result's "Check again" button.
func TestFinishedDialogueIsNotActive(t *testing.T) {
	t.Parallel()
	e := newEngine(t, session.NewMemory(0))
	c := &chat{t: t, e: e, user: "fin"}
	resp := c.say("/eligibility")
	if !e.Active(context.Background(), c.req("", "")) {
		t.Fatal("a dialogue in progress is not active")
	}
	profile := base(map[string]string{"citizenship": "Irish", "age": "27"})
	for !resp.Dialogue.Done {
		resp = c.say(profile[resp.Dialogue.Ask])
	}
	if e.Active(context.Background(), c.req("", "")) {
		t.Error("a finished dialogue is still active")
	}
	sum, ok, err := e.Handle(context.Background(), c.req("/summary", ""), nil)
	if err != nil || !ok || sum == nil || len(sum.Replies) != 1 || !strings.Contains(sum.Replies[0].Text, "Citizenship: Ireland") {
		t.Errorf("/summary after the end: %+v %v %v", sum, ok, err)
	}
	if c.say("yes") != nil {
		t.Error("a finished dialogue answered an ordinary message")
	}
}

// The trade-agreement list question is asked only when it can change the
// outcome: not for a TEER 4 job, not for a country without such a list.
func TestListQuestionOnlyWhenItMatters(t *testing.T) {
	t.Parallel()
	e := newEngine(t, session.NewMemory(0))
	for i, p := range []map[string]string{
		base(map[string]string{"citizenship": "USA", "job_offer": "yes", "teer": "4"}),
		base(map[string]string{"citizenship": "India", "job_offer": "yes", "teer": "1"}),
		base(map[string]string{"citizenship": "Mexico", "job_offer": "no"}),
	} {
		if _, asked := play(t, &chat{t: t, e: e, user: fmt.Sprint("l", i)}, p); contains(asked, "listed_profession") {
			t.Errorf("%v: asked listed_profession (%v)", p, asked)
		}
	}
	if _, asked := play(t, &chat{t: t, e: e, user: "l9"}, base(map[string]string{"citizenship": "USA", "job_offer": "yes", "teer": "1"})); !contains(asked, "listed_profession") {
		t.Errorf("a US citizen with a TEER 1 offer was not asked listed_profession (%v)", asked)
	}
}

// The wording follows earlier answers: no "the job" without an offer, and
// employer wording for employers.
func TestWordingFollowsAnswers(t *testing.T) {
	t.Parallel()
	e := newEngine(t, session.NewMemory(0))
	c := &chat{t: t, e: e, user: "w1"}
	c.say("/eligibility")
	c.say("worker")
	c.say("India")
	c.say("no")
	c.say("no") // no job offer
	resp := c.say("yes")
	asks(t, resp, "visit_kind")
	resp = c.say("hands-on work for a client")
	asks(t, resp, "teer")
	if q := lastText(resp); strings.Contains(q, "Canadian job") || !strings.Contains(q, "work you would do") {
		t.Errorf("TEER question without an offer: %q", q)
	}
	c = &chat{t: t, e: e, user: "w2"}
	c.say("/eligibility")
	c.say("we are hiring")
	c.say("Brazil")
	c.say("no")
	resp = c.say("no")
	for !resp.Dialogue.Done && resp.Dialogue.Ask != "work_kind" {
		resp = c.say("no")
	}
	asks(t, resp, "work_kind")
	if q := lastText(resp); !strings.Contains(q, "the worker") {
		t.Errorf("work_kind for an employer: %q", q)
	}
}
