package service

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/impbot/impbot/bot"
	"github.com/impbot/impbot/bot/console"
	"github.com/impbot/impbot/knowledge"
)

// dlgPersonasPath is the development persona set (a copy of the shared set,
// kept in testdata so that CI runs it in a clean clone). IMPBOT_PERSONAS
// overrides it.
func dlgPersonasPath() string {
	if p := os.Getenv("IMPBOT_PERSONAS"); p != "" {
		return p
	}
	return filepath.Join("testdata", "personas-dev.jsonl")
}

type dlgPersona struct {
	Name       string         `json:"name"`
	Profile    map[string]any `json:"profile"`
	ExpectAll  []string       `json:"expect_all"`
	ExpectNone []string       `json:"expect_none"`
}

// dlgNeutralDefaults answer a fact that a persona's profile lacks.
var dlgNeutralDefaults = map[string]string{
	"asker": "worker", "in_canada": "no", "job_offer": "no", "teer": "unknown", "job_in_quebec": "no",
	"short_visit": "no", "related_company_year": "no", "role": "other", "french": "no", "work_kind": "standard",
	"canadian_graduate": "no", "pr_applicant": "no", "abuse": "no", "spouse": "none",
}

func loadDlgPersonas(t *testing.T) []dlgPersona {
	t.Helper()
	data, err := os.ReadFile(dlgPersonasPath())
	if err != nil {
		t.Fatalf("persona set missing: %v", err)
	}
	var ps []dlgPersona
	for i, line := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var p dlgPersona
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			t.Fatalf("%s line %d: %v", dlgPersonasPath(), i+1, err)
		}
		ps = append(ps, p)
	}
	if len(ps) == 0 {
		t.Fatalf("%s holds no persona", dlgPersonasPath())
	}
	return ps
}

var (
	dlgSharedOnce sync.Once
	dlgShared     *App
	dlgSharedErr  error
)

// dlgSharedApp is one app over the shipped knowledge, built once and shared
// by the tests that only talk to it (each as users of its own): building an
// app indexes the whole knowledge, the largest cost of these tests under
// -race. A test that reloads or otherwise changes its app uses dlgApp.
func dlgSharedApp(t *testing.T) *App {
	t.Helper()
	dlgSharedOnce.Do(func() {
		cfg, err := localConfig("", "")
		if err != nil {
			dlgSharedErr = err
			return
		}
		dlgShared, dlgSharedErr = newApp(cfg, slog.New(slog.DiscardHandler))
	})
	if dlgSharedErr != nil {
		t.Fatal(dlgSharedErr)
	}
	return dlgShared
}

// dlgApp builds an app of the test's own over kdir ("" is the shipped
// knowledge).
func dlgApp(t *testing.T, kdir string) *App {
	t.Helper()
	cfg, err := localConfig("", kdir)
	if err != nil {
		t.Fatal(err)
	}
	app, err := newApp(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })
	return app
}

// dlgSession drives `chat --jsonl` (console.RunJSONL on the app's
// handler) one line at a time.
type dlgSession struct {
	t   *testing.T
	in  *io.PipeWriter
	out *bufio.Scanner
}

func newDlgSession(t *testing.T, h bot.Handler) *dlgSession {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		err := console.RunJSONL(ctx, h, inR, outW)
		outW.CloseWithError(io.EOF)
		done <- err
	}()
	t.Cleanup(func() {
		inW.Close()
		if err := <-done; err != nil {
			t.Errorf("RunJSONL: %v", err)
		}
		cancel()
	})
	sc := bufio.NewScanner(outR)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	return &dlgSession{t: t, in: inW, out: sc}
}

func (s *dlgSession) send(in console.In) console.Out {
	s.t.Helper()
	line, _ := json.Marshal(in)
	if _, err := s.in.Write(append(line, '\n')); err != nil {
		s.t.Fatalf("write: %v", err)
	}
	if !s.out.Scan() {
		s.t.Fatalf("no output line for %s: %v", line, s.out.Err())
	}
	var out struct {
		console.Out
		Dialogue *struct {
			Ask      string   `json:"ask"`
			Options  []string `json:"options"`
			Done     bool     `json:"done"`
			Outcomes []string `json:"outcomes"`
		} `json:"dialogue"`
	}
	if err := json.Unmarshal(s.out.Bytes(), &out); err != nil {
		s.t.Fatalf("output %q: %v", s.out.Bytes(), err)
	}
	o := out.Out
	if out.Dialogue != nil {
		o.Dialogue = &bot.DialogueState{Ask: out.Dialogue.Ask, Options: out.Dialogue.Options, Done: out.Dialogue.Done, Outcomes: out.Dialogue.Outcomes}
	}
	return o
}

func dlgProfileValue(p dlgPersona, fact string) (string, bool) {
	v, ok := p.Profile[fact]
	if !ok {
		d, ok := dlgNeutralDefaults[fact]
		if !ok {
			// A question the persona set predates (listed_profession,
			// service_contract, visit_kind, exceptional): the honest
			// answer of someone who was not told is "I don't know".
			return "unknown", true
		}
		return d, ok
	}
	switch x := v.(type) {
	case string:
		return x, true
	case float64:
		return fmt.Sprint(x), true
	default:
		return fmt.Sprint(x), true
	}
}

// runDlgPersona answers every question of the dialogue from the persona's
// profile and returns the outcomes. Choice answers are typed as text or
// pressed as buttons (d:<value>) depending on buttons.
func runDlgPersona(t *testing.T, s *dlgSession, user string, p dlgPersona, buttons bool) (outcomes []string, asked []string) {
	t.Helper()
	out := s.send(console.In{User: user, Text: "/eligibility"})
	for step := 0; step < 40; step++ {
		if out.Error != "" {
			t.Fatalf("%s: error %s", p.Name, out.Error)
		}
		d := out.Dialogue
		if d == nil {
			t.Fatalf("%s: no dialogue state in %+v", p.Name, out.Replies)
		}
		if d.Done {
			return d.Outcomes, asked
		}
		if len(asked) > 0 && asked[len(asked)-1] == d.Ask {
			t.Fatalf("%s: the answer to %q was not accepted: %q", p.Name, d.Ask, out.Replies[0].Text)
		}
		asked = append(asked, d.Ask)
		v, ok := dlgProfileValue(p, d.Ask)
		if !ok {
			t.Fatalf("%s: asked %q, which the profile lacks and has no neutral default", p.Name, d.Ask)
		}
		in := console.In{User: user, Text: v}
		if buttons && dlgContains(d.Options, v) {
			in = console.In{User: user, Action: bot.ActDialogue + v}
		}
		out = s.send(in)
	}
	t.Fatalf("%s: the dialogue did not end after 40 answers (asked %v)", p.Name, asked)
	return nil, nil
}

func dlgContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestPersonasThroughChatJSONL is issue 4's acceptance test: every dev
// persona gets all of its expect_all outcomes and none of its expect_none,
// through the `chat --jsonl` contract.
func TestPersonasThroughChatJSONL(t *testing.T) {
	t.Parallel()
	ps := loadDlgPersonas(t)
	app := dlgSharedApp(t)
	s := newDlgSession(t, app.Handler)
	passed := 0
	totalQuestions := 0
	for i, p := range ps {
		ok := t.Run(fmt.Sprintf("%02d", i+1), func(t *testing.T) {
			got, asked := runDlgPersona(t, s, fmt.Sprintf("persona-%d", i), p, i%2 == 1)
			totalQuestions += len(asked)
			for _, want := range p.ExpectAll {
				if !dlgContains(got, want) {
					t.Errorf("%s: missing %s; got %v", p.Name, want, got)
				}
			}
			for _, bad := range p.ExpectNone {
				if dlgContains(got, bad) {
					t.Errorf("%s: unexpected %s; got %v", p.Name, bad, got)
				}
			}
			if len(got) == 0 {
				t.Errorf("%s: no outcome", p.Name)
			}
			// Only what is needed: employers are never asked about a spouse or abuse.
			if v, _ := dlgProfileValue(p, "asker"); v == "employer" {
				for _, f := range asked {
					if f == "spouse" || f == "abuse" {
						t.Errorf("%s: an employer was asked %q", p.Name, f)
					}
				}
			}
		})
		if ok {
			passed++
		}
	}
	t.Logf("personas passed: %d/%d (%.1f questions on average)", passed, len(ps), float64(totalQuestions)/float64(len(ps)))
}

// TestDialogueThroughRouter checks the dialogue inside the whole app: explicit
// starts, a question instead of an answer, article buttons passing through,
// back, cancel and /forget.
func TestDialogueThroughRouter(t *testing.T) {
	t.Parallel()
	app := dlgSharedApp(t)
	s := newDlgSession(t, app.Handler)

	// A plain question never starts the dialogue.
	out := s.send(console.In{User: "a", Text: "am I eligible for a PGWP?"})
	if out.Dialogue != nil {
		t.Fatalf("a plain question started the dialogue: %+v", out.Dialogue)
	}
	// An explicit request does.
	out = s.send(console.In{User: "a", Text: "Check my eligibility please"})
	if out.Dialogue == nil || out.Dialogue.Ask != "asker" || !dlgContains(out.Dialogue.Options, "employer") {
		t.Fatalf("explicit request: %+v", out.Dialogue)
	}
	out = s.send(console.In{User: "a", Text: "I'm an employer"})
	if out.Dialogue == nil || out.Dialogue.Ask != "citizenship" || len(out.Dialogue.Options) != 0 {
		t.Fatalf("after asker: %+v", out.Dialogue)
	}
	if !strings.Contains(out.Replies[0].Text, "worker's citizenship") {
		t.Errorf("employer variant of the question not used: %q", out.Replies[0].Text)
	}
	// A question instead of an answer: the FAQ answer, then the question again.
	out = s.send(console.In{User: "a", Text: "How much is the employer compliance fee?"})
	if out.Dialogue == nil || out.Dialogue.Ask != "citizenship" || len(out.Replies) < 2 {
		t.Fatalf("question during the dialogue: %+v %d replies", out.Dialogue, len(out.Replies))
	}
	if out.Replies[0].Topic != "employer-compliance-fee" {
		t.Errorf("FAQ answer topic = %q", out.Replies[0].Topic)
	}
	// An article button passes through to the router and keeps the dialogue.
	out = s.send(console.In{User: "a", Action: bot.ArticleAction("cusma-professionals")})
	if out.Dialogue != nil || len(out.Replies) == 0 || out.Replies[0].Topic != "cusma-professionals" {
		t.Fatalf("article button: %+v %+v", out.Dialogue, out.Replies)
	}
	out = s.send(console.In{User: "a", Text: "Mexique"})
	if out.Dialogue == nil || out.Dialogue.Ask == "citizenship" {
		t.Fatalf("answer after an article: %+v", out.Dialogue)
	}
	// Mexico is not an IEC partner (agreement under revision): no age question.
	if out.Dialogue.Ask == "age" {
		t.Errorf("age asked for a non-IEC country")
	}
	next := out.Dialogue.Ask
	out = s.send(console.In{User: "a", Action: bot.CommandAction("back")})
	if out.Dialogue == nil || out.Dialogue.Ask != "citizenship" {
		t.Fatalf("back: %+v", out.Dialogue)
	}
	out = s.send(console.In{User: "a", Text: "mexican"})
	if out.Dialogue == nil || out.Dialogue.Ask != next {
		t.Fatalf("after back and the same answer: %+v, want %s", out.Dialogue, next)
	}
	// /forget deletes the session: "yes" is then an ordinary message.
	out = s.send(console.In{User: "a", Text: "/forget"})
	if out.Dialogue != nil {
		t.Fatalf("/forget: %+v", out.Dialogue)
	}
	out = s.send(console.In{User: "a", Text: "yes"})
	if out.Dialogue != nil {
		t.Fatalf("dialogue survived /forget: %+v", out.Dialogue)
	}
	// /cancel ends it with no outcome; /back afterwards is the router's.
	s.send(console.In{User: "a", Text: "/eligibility"})
	out = s.send(console.In{User: "a", Text: "/cancel"})
	if out.Dialogue == nil || !out.Dialogue.Done || len(out.Dialogue.Outcomes) != 0 {
		t.Fatalf("/cancel: %+v", out.Dialogue)
	}
	out = s.send(console.In{User: "a", Text: "/back"})
	if out.Dialogue != nil || !strings.Contains(out.Replies[0].Text, "no eligibility check in progress") {
		t.Fatalf("/back without a dialogue: %+v %q", out.Dialogue, out.Replies[0].Text)
	}
	// French start phrase: French questions.
	out = s.send(console.In{User: "f", Text: "vérifier mon admissibilité"})
	if out.Dialogue == nil || !strings.Contains(out.Replies[0].Text, "employeur") {
		t.Fatalf("French start: %+v %q", out.Dialogue, out.Replies[0].Text)
	}
}

// TestDialogueResultFormat checks the end of a dialogue: article buttons,
// the notice with the contact, the employer steps.
func TestDialogueResultFormat(t *testing.T) {
	t.Parallel()
	app := dlgSharedApp(t)
	s := newDlgSession(t, app.Handler)
	p := dlgPersona{Name: "employer hiring a US engineer", Profile: map[string]any{
		"asker": "employer", "citizenship": "United States", "in_canada": "no", "job_offer": "yes", "short_visit": "no", "teer": "1",
		"listed_profession": "yes",
	}}
	user := "emp"
	out := s.send(console.In{User: user, Text: "/eligibility"})
	var last console.Out
	for out.Dialogue != nil && !out.Dialogue.Done {
		v, _ := dlgProfileValue(p, out.Dialogue.Ask)
		last = out
		out = s.send(console.In{User: user, Text: v})
		if out.Dialogue != nil && out.Dialogue.Ask == last.Dialogue.Ask {
			t.Fatalf("answer %q to %s refused", v, last.Dialogue.Ask)
		}
	}
	if out.Dialogue == nil {
		t.Fatal("dialogue vanished")
	}
	got := out.Dialogue.Outcomes
	for _, want := range []string{"cusma-professionals", "global-skills-strategy", "employer-steps-portal"} {
		if !dlgContains(got, want) {
			t.Errorf("missing %s in %v", want, got)
		}
	}
	if dlgContains(got, "lmia-vs-imp") {
		t.Errorf("lmia-vs-imp although a stream fits: %v", got)
	}
	rep := out.Replies[0] // the result; the summary follows
	for _, id := range got {
		if !strings.Contains(strings.Join(dlgActions(rep.Buttons), " "), bot.ArticleAction(id)) {
			t.Errorf("no button for %s", id)
		}
	}
	if !strings.Contains(rep.Text, bot.Msg("en", "notice")) {
		t.Errorf("no notice in the result: %q", rep.Text)
	}
	if !strings.Contains(rep.Text, "/contact") {
		t.Errorf("no contact in the result: %q", rep.Text)
	}
}

func dlgActions(bs []bot.Button) []string {
	var out []string
	for _, b := range bs {
		out = append(out, b.Action)
	}
	return out
}

// dlgKnowledgeDir writes the shipped knowledge to a folder, with the rules
// file replaced by rules.
func dlgKnowledgeDir(t *testing.T, rules string) string {
	t.Helper()
	dir := t.TempDir()
	err := fs.WalkDir(knowledge.Shipped, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(knowledge.Shipped, p)
		if err != nil {
			return err
		}
		if p == "eligibility.yaml" && rules != "" {
			data = []byte(rules)
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, p), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// dlgShippedRules returns the shipped rules as the dialogue sees them, with
// their fact references (IEC ages) substituted. The knowledge is loaded once
// for all the tests.
func dlgShippedRules(t *testing.T) string {
	t.Helper()
	rules, err := dlgRules()
	if err != nil {
		t.Fatal(err)
	}
	return rules
}

var dlgRules = sync.OnceValues(func() (string, error) {
	b, err := knowledge.LoadShipped()
	if err != nil {
		return "", err
	}
	return string(b.Files["eligibility.yaml"]), nil
})

// dlgLineOf returns the 1-based line of the first occurrence of s in text.
func dlgLineOf(t *testing.T, text, s string) int {
	t.Helper()
	i := strings.Index(text, s)
	if i < 0 {
		t.Fatalf("%q not in the rules", s)
	}
	return strings.Count(text[:i], "\n") + 1
}

// runKBCheck is `impbot kb check DIR`: the problems and summary go to w.
func runKBCheck(w io.Writer, dir string) error {
	if n := KBCheck(w, dir); n > 0 {
		return fmt.Errorf("%d problem(s)", n)
	}
	return nil
}

// runKBGraph is `impbot kb graph` on the embedded knowledge.
func runKBGraph(w io.Writer, lang string, markdown bool) error {
	out, probs, err := KBGraph("", lang, markdown)
	if err != nil {
		return err
	}
	if len(probs) > 0 {
		return probs
	}
	_, err = io.WriteString(w, out)
	return err
}

func TestKBCheckReportsBrokenRules(t *testing.T) {
	t.Parallel()
	orig := dlgShippedRules(t)
	broken := strings.Replace(orig, "- {fact: age, within_age_of: iec}", "- {fact: agee, within_age_of: iec}", 1)
	broken = strings.Replace(broken, "outcome: bowp", "outcome: bridging-permit", 1)
	broken = strings.Replace(broken, `{fact: spouse, is: skilled_worker}`, `{fact: spouse, is: skilled}`, 1)
	dir := dlgKnowledgeDir(t, broken)
	var stdout bytes.Buffer
	err := runKBCheck(&stdout, dir)
	if err == nil {
		t.Fatalf("kb check accepted broken rules:\n%s", stdout.String())
	}
	file := filepath.Join(dir, "eligibility.yaml")
	for _, want := range []string{
		fmt.Sprintf("%s:%d: unknown fact \"agee\"", file, dlgLineOf(t, broken, "{fact: agee")),
		fmt.Sprintf("%s:%d: unknown outcome \"bridging-permit\"", file, dlgLineOf(t, broken, "- outcome: bridging-permit")),
		fmt.Sprintf("%s:%d: unknown value \"skilled\" for fact \"spouse\"", file, dlgLineOf(t, broken, "{fact: spouse, is: skilled}")),
		fmt.Sprintf("%s:%d: question \"age\" is not needed by any rule", file, dlgLineOf(t, broken, "- name: age")),
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("kb check output lacks %q:\n%s", want, stdout.String())
		}
	}

	// A YAML syntax error is reported with its line.
	dir = dlgKnowledgeDir(t, orig+"\nrules: [oops\n")
	stdout.Reset()
	if err := runKBCheck(&stdout, dir); err == nil {
		t.Fatal("kb check accepted a YAML error")
	}
	if !strings.Contains(stdout.String(), filepath.Join(dir, "eligibility.yaml")+":") {
		t.Errorf("YAML error not reported as file:line:\n%s", stdout.String())
	}

	// The shipped rules are clean.
	stdout.Reset()
	if err := runKBCheck(&stdout, dlgKnowledgeDir(t, "")); err != nil {
		t.Fatalf("shipped knowledge: %v\n%s", err, stdout.String())
	}
}

func TestBrokenRulesStopTheApp(t *testing.T) {
	t.Parallel()
	dir := dlgKnowledgeDir(t, strings.Replace(dlgShippedRules(t), "outcome: pgwp", "outcome: no-such-article", 1))
	cfg, err := localConfig("", dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = newApp(cfg, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "no-such-article") {
		t.Fatalf("newApp with broken rules: %v", err)
	}
}

func TestRulesHotReload(t *testing.T) {
	t.Parallel()
	app := dlgApp(t, "")
	if len(app.Reloaders()) == 0 {
		t.Fatal("no reload hook registered")
	}
	b, err := knowledge.LoadShipped()
	if err != nil {
		t.Fatal(err)
	}
	bad := *b
	bad.Files = map[string][]byte{"eligibility.yaml": []byte("facts: [\n")}
	rejected := false
	for _, f := range app.Reloaders() {
		if err := f(&bad); err != nil && regexp.MustCompile(`eligibility\.yaml:\d+: `).MatchString(err.Error()) {
			rejected = true
		}
	}
	if !rejected {
		t.Error("a reload with broken rules was not rejected with file:line")
	}
	good := *b
	good.Files = map[string][]byte{"eligibility.yaml": []byte(strings.Replace(dlgShippedRules(t),
		`en: "Are you in Canada right now?"`, `en: "Are you in Canada today?"`, 1))}
	for _, f := range app.Reloaders() {
		if err := f(&good); err != nil {
			t.Fatalf("reload of valid rules: %v", err)
		}
	}
	s := newDlgSession(t, app.Handler)
	s.send(console.In{User: "r", Text: "/eligibility"})
	s.send(console.In{User: "r", Text: "worker"})
	out := s.send(console.In{User: "r", Text: "India"})
	if out.Dialogue == nil || out.Dialogue.Ask != "in_canada" || !strings.Contains(out.Replies[0].Text, "in Canada today?") {
		t.Fatalf("new rules not used after reload: %+v %q", out.Dialogue, out.Replies[0].Text)
	}
}

func TestKBGraph(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if err := runKBGraph(&stdout, "en", false); err != nil {
		t.Fatalf("kb graph: %v %s", err, stderr.String())
	}
	g := stdout.String()
	if !strings.HasPrefix(g, "flowchart TD\n") {
		t.Fatalf("not a Mermaid flowchart:\n%.200s", g)
	}
	for _, want := range []string{"q_asker", "q_citizenship", "iec-overview", "lmia-vs-imp", "within the iec age limit", "classDef likely"} {
		if !strings.Contains(g, want) {
			t.Errorf("graph lacks %q", want)
		}
	}
	stdout.Reset()
	if err := runKBGraph(&stdout, "fr", true); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stdout.String(), "```mermaid\n") || !strings.Contains(stdout.String(), "Quelle est votre citoyenneté") {
		t.Errorf("markdown/fr graph:\n%.300s", stdout.String())
	}
}

// TestKBCheckReportsTheRootError breaks one shipped article: kb check reports
// that file's problem alone and holds back what follows from it (the other
// articles' related ids and the eligibility rules' outcomes pointing to it).
func TestKBCheckReportsTheRootError(t *testing.T) {
	t.Parallel()
	dir := dlgKnowledgeDir(t, "")
	p := filepath.Join(dir, "en", "pgwp.md")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(data), "\nid: pgwp\n", "\nid: [pgwp\n", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if n := KBCheck(&out, dir); n != 1 {
		t.Fatalf("want 1 problem (the broken file), got %d:\n%s", n, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if !strings.HasPrefix(lines[0], p+":") || strings.Contains(out.String(), "is not an article") || strings.Contains(out.String(), "unknown outcome") {
		t.Errorf("output:\n%s", out.String())
	}
	if !regexp.MustCompile(`(?m)^([2-9]|\d\d+) more held back: they follow from the articles above`).MatchString(out.String()) {
		t.Errorf("no held-back count:\n%s", out.String())
	}
}

// TestNoEligibilityButtonDuringTheCheck: while the check runs, no reply
// offers "Check my eligibility" (/help, a question answered mid-check, an
// article button); once it ends, /help offers it again.
func TestNoEligibilityButtonDuringTheCheck(t *testing.T) {
	t.Parallel()
	app := dlgSharedApp(t)
	s := newDlgSession(t, app.Handler)
	offers := func(out console.Out) bool {
		for _, r := range out.Replies {
			for _, b := range r.Buttons {
				if b.Action == bot.CommandAction("eligibility") {
					return true
				}
			}
		}
		return false
	}
	if out := s.send(console.In{User: "e", Text: "/help"}); !offers(out) {
		t.Fatal("/help does not offer the check before it starts: the test proves nothing")
	}
	if out := s.send(console.In{User: "e", Text: "what is the pgwp?"}); !offers(out) {
		t.Fatal("an article does not offer the check before it starts: the test proves nothing")
	}
	s.send(console.In{User: "e", Text: "/eligibility"})
	for _, in := range []console.In{
		{User: "e", Text: "/help"},
		{User: "e", Text: "/start"},
		{User: "e", Text: "what is the pgwp?"},
		{User: "e", Action: bot.ArticleAction("pgwp")},
	} {
		if out := s.send(in); offers(out) {
			t.Errorf("%+v during the check offers to start it: %+v", in, out.Replies)
		}
	}
	s.send(console.In{User: "e", Text: "/cancel"})
	if out := s.send(console.In{User: "e", Text: "/help"}); !offers(out) {
		t.Error("/help after /cancel does not offer the check")
	}
}

// TestKnowledgeHash: the folder copy of the embedded knowledge hashes the
// same; one changed byte changes the hash.
func TestKnowledgeHash(t *testing.T) {
	t.Parallel()
	embedded, err := KnowledgeHash("")
	if err != nil {
		t.Fatal(err)
	}
	dir := dlgKnowledgeDir(t, "")
	same, err := KnowledgeHash(dir)
	if err != nil || same != embedded || len(same) != 16 {
		t.Fatalf("copy: %q %v, embedded %q", same, err, embedded)
	}
	p := filepath.Join(dir, "en", "pgwp.md")
	data, _ := os.ReadFile(p)
	if err := os.WriteFile(p, append(data, ' '), 0o644); err != nil {
		t.Fatal(err)
	}
	if changed, err := KnowledgeHash(dir); err != nil || changed == embedded {
		t.Errorf("hash did not change: %q %v", changed, err)
	}
	if _, err := KnowledgeHash(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing folder hashed")
	}
}

// TestStartDeepLinkOpensTheCheck: "/start eligibility" (a Telegram deep
// link, t.me/BOT?start=eligibility) starts the eligibility dialogue;
// "/start pgwp" opens the article.
func TestStartDeepLinkOpensTheCheck(t *testing.T) {
	t.Parallel()
	app := dlgSharedApp(t)
	s := newDlgSession(t, app.Handler)
	out := s.send(console.In{User: "d", Text: "/start eligibility", Lang: "fr"})
	if out.Dialogue == nil || out.Dialogue.Ask != "asker" || !strings.Contains(out.Replies[0].Text, "employeur") {
		t.Fatalf("/start eligibility: %+v %+v", out.Dialogue, out.Replies)
	}
	out = s.send(console.In{User: "p", Text: "/start pgwp"})
	if out.Dialogue != nil || len(out.Replies) == 0 || out.Replies[0].Topic != "pgwp" {
		t.Fatalf("/start pgwp: %+v %+v", out.Dialogue, out.Replies)
	}
}

// TestBroadWishGetsTheOverviewAndTheCheck: a broad wish to move to Canada
// is in scope: it gets the IMP overview with the eligibility check offered,
// not the fallback. (The phrasings differ from the article's questions.)
func TestBroadWishGetsTheOverviewAndTheCheck(t *testing.T) {
	t.Parallel()
	app := dlgSharedApp(t)
	s := newDlgSession(t, app.Handler)
	for i, q := range []string{"how do I move to Canada", "i wanna move to canada", "je veux immigrer au Canada", "Comment s'installer au Canada ?"} {
		out := s.send(console.In{User: fmt.Sprint("w", i), Text: q})
		if len(out.Replies) == 0 || out.Replies[0].Topic != "imp-overview" {
			t.Errorf("%q: %+v", q, out.Replies)
			continue
		}
		offered := false
		for _, b := range out.Replies[0].Buttons {
			offered = offered || b.Action == bot.CommandAction("eligibility")
		}
		if !offered {
			t.Errorf("%q: the eligibility check is not offered: %+v", q, out.Replies[0].Buttons)
		}
	}
}
