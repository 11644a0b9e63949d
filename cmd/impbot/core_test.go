package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/impbot/impbot/bot"
	"github.com/impbot/impbot/bot/service"
)

// runCmd runs the CLI in process and returns stdout, stderr and the error.
func runCmd(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), err
}

func TestChatJSONLContract(t *testing.T) {
	cpuBound(t)
	in := strings.Join([]string{
		`{"user":"u1","text":"how much is the compliance fee"}`,
		`not json`,
		``,
		`{"user":"u2","text":"+title:x -body:*"}`,
		`{"user":"u1","action":"a:pgwp"}`,
		`{"text":"no user"}`,
		`{"user":"u3","text":"` + strings.Repeat("é", 4000) + `"}`,
		`{"user":"u3","text":"😀"}`,
		`{"user":"u3","text":""}`,
		`{"user":"u4","text":"hi","extra":1}`,
	}, "\n") + "\n"
	out, stderr, err := runCmd(t, in, "chat", "--jsonl")
	if err != nil {
		t.Fatalf("chat --jsonl: %v\n%s", err, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 9 { // the blank line is not an input
		t.Fatalf("want 9 output lines, got %d:\n%s", len(lines), out)
	}
	type reply struct {
		Text        string   `json:"text"`
		Topic       *string  `json:"topic"`
		Score       *float64 `json:"score"`
		Suggestions []string `json:"suggestions"`
		Buttons     []struct {
			Label  string `json:"label"`
			Action string `json:"action"`
		} `json:"buttons"`
	}
	type outLine struct {
		User     string          `json:"user"`
		Replies  []reply         `json:"replies"`
		Dialogue json.RawMessage `json:"dialogue"`
		Error    string          `json:"error"`
	}
	var got []outLine
	for i, l := range lines {
		var o outLine
		dec := json.NewDecoder(strings.NewReader(l))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&o); err != nil {
			t.Fatalf("line %d is not the contract's JSON: %v\n%s", i+1, err, l)
		}
		var raw map[string]json.RawMessage
		json.Unmarshal([]byte(l), &raw)
		if _, ok := raw["dialogue"]; !ok {
			t.Errorf("line %d has no dialogue field", i+1)
		}
		got = append(got, o)
	}
	first := got[0]
	if first.User != "u1" || len(first.Replies) != 1 || *first.Replies[0].Topic != "employer-compliance-fee" {
		t.Fatalf("first answer: %+v", first)
	}
	r := first.Replies[0]
	if *r.Score <= 0 || *r.Score > 1 || r.Suggestions == nil || len(r.Buttons) == 0 || string(first.Dialogue) != "null" {
		t.Errorf("first answer fields: %+v dialogue=%s", r, first.Dialogue)
	}
	if got[1].Error == "" || got[4].Error == "" || got[8].Error == "" {
		t.Errorf("malformed lines must get an error field: %q %q %q", got[1].Error, got[4].Error, got[8].Error)
	}
	for _, i := range []int{2, 3, 5, 6, 7} {
		if got[i].Error != "" || len(got[i].Replies) == 0 || got[i].Replies[0].Text == "" {
			t.Errorf("line %d: want a sane reply, got %+v", i+1, got[i])
		}
	}
	if *got[3].Replies[0].Topic != "pgwp" {
		t.Errorf("button action: topic %q", *got[3].Replies[0].Topic)
	}
}

func TestAskJSON(t *testing.T) {
	cpuBound(t)
	out, _, err := runCmd(t, "", "ask", "--json", "can", "my", "spouse", "get", "an", "open", "work", "permit?")
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Text        string   `json:"text"`
		Topic       string   `json:"topic"`
		Score       float64  `json:"score"`
		Suggestions []string `json:"suggestions"`
		Buttons     []any    `json:"buttons"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !strings.HasPrefix(rep.Topic, "spousal-owp") || rep.Text == "" {
		t.Fatalf("reply: %+v", rep)
	}
	if _, _, err := runCmd(t, "", "ask"); err == nil {
		t.Fatal("ask without text should fail")
	}
}

func TestKBCheck(t *testing.T) {
	cpuBound(t)
	out, _, err := runCmd(t, "", "kb", "check", "../../knowledge")
	if err != nil || !strings.Contains(out, "OK") {
		t.Fatalf("shipped knowledge: %v\n%s", err, out)
	}
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "en"), 0o755)
	os.WriteFile(filepath.Join(dir, "en", "broken.md"), []byte("---\nid: broken\nlang: en\nkind: topic\ntitle: Broken\nsummary: \"\"\nquestions: [x]\nsources: [not-a-url]\nreviewed: soon\nrelated: [ghost]\n---\nbody\n"), 0o644)
	out, _, err = runCmd(t, "", "kb", "check", dir)
	var ee exitError
	if err == nil || !asExit(err, &ee) || ee.code != 1 {
		t.Fatalf("want exit 1, got %v", err)
	}
	for _, want := range []string{"en/broken.md:6: missing or empty summary", "en/broken.md:8: source", "en/broken.md:9: reviewed", `en/broken.md:10: related id "ghost"`} {
		if !strings.Contains(out, want) {
			t.Errorf("kb check output lacks %q:\n%s", want, out)
		}
	}
}

func asExit(err error, ee *exitError) bool {
	e, ok := err.(exitError)
	if ok {
		*ee = e
	}
	return ok
}

func TestKBExport(t *testing.T) {
	cpuBound(t)
	out, _, err := runCmd(t, "", "kb", "export")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 61 {
		t.Fatalf("want at least 61 articles, got %d", len(lines))
	}
	var a struct {
		ID, Kind, Title, Summary, Body string
		Questions, Keywords            []string
	}
	if err := json.Unmarshal([]byte(lines[0]), &a); err != nil || a.ID == "" || a.Summary == "" || len(a.Questions) == 0 {
		t.Fatalf("first line: %v %+v", err, a)
	}
}

// runDevSet runs a development question set kept in testdata (a copy of
// the shared development sets, so that CI runs it in a clean clone).
func runDevSet(t *testing.T, name string) service.EvalReport {
	t.Helper()
	return runQuestionSet(t, filepath.Join("testdata", name))
}

// questionSetApp is the app (shipped knowledge, no config) that the question
// sets run through, built once for all of them: building it indexes the
// whole knowledge. Each question is asked by a user of its own, and each set
// has users of its own (runQuestionSet), so the figures are those of an app
// per set, and the sets can run at once.
var questionSetApp = sync.OnceValues(func() (*service.App, error) {
	return service.LocalApp("", "", os.Stderr)
})

// ownUsers is h with the chat and user IDs of its requests prefixed, so that
// what it is asked does not share sessions with another set's users.
func ownUsers(h bot.Handler, prefix string) bot.Handler {
	return bot.HandlerFunc(func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
		r := *req
		r.ChatID, r.UserID = prefix+r.ChatID, prefix+r.UserID
		return h.Handle(ctx, &r)
	})
}

// runQuestionSet runs the question set at path through the bot and logs the
// figures and misses.
func runQuestionSet(t *testing.T, path string) service.EvalReport {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cases, err := service.ReadEval(f)
	if err != nil {
		t.Fatal(err)
	}
	app, err := questionSetApp()
	if err != nil {
		t.Fatal(err)
	}
	rep, err := service.Evaluate(context.Background(), ownUsers(app.Handler, filepath.Base(path)+":"), app.Base, cases)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: top-1 %.1f%%, top-3 %.1f%%, unrelated rejected %.1f%%, redirects %.1f%%", filepath.Base(path), rep.Top1Rate(), rep.Top3Rate(), rep.RejectRate(), rep.RedirectRate())
	for _, m := range rep.Misses {
		t.Log(m)
	}
	return rep
}

// TestDevSetQualityFrench guards the French answers against regressions. The
// issue sets no French targets yet; the floors are a little under what the
// shipped knowledge reaches (top-1 94 %, top-3 97 %, rejected 90 %).
func TestDevSetQualityFrench(t *testing.T) {
	cpuBound(t)
	rep := runDevSet(t, "dev-fr.jsonl")
	if rep.Top1Rate() < 88 || rep.Top3Rate() < 95 || rep.RejectRate() < 80 {
		t.Fatalf("French answers regressed below the floors (top-1 ≥88, top-3 ≥95, rejected ≥80)")
	}
}

// TestDevSetQuality runs the development question set through the bot and
// fails below the quality targets, so an edit cannot silently degrade the
// answers. The set is a copy of the shared development set, in testdata.
func TestDevSetQuality(t *testing.T) {
	cpuBound(t)
	rep := runDevSet(t, "dev.jsonl")
	if rep.Top1Rate() < 95 || rep.Top3Rate() < 99 || rep.RejectRate() < 95 || rep.RedirectRate() < 90 {
		t.Fatalf("below targets (top-1 ≥95, top-3 ≥99, rejected ≥95, redirects ≥90)")
	}
}

// TestExtraQuestionSet runs a second, independent English question set kept
// in testdata (240 questions written without seeing the dev set or the
// articles) as a regression floor. The previous hand-weighted ranker, partly
// calibrated on half of this set, reached top-1 93 %, top-3 99 %, rejected
// 97.5 %; the learned ranker never saw it and reaches about 87.5 %, 95 % and
// 97.5 % (README, How it answers): the floors sit just under that.
func TestExtraQuestionSet(t *testing.T) {
	cpuBound(t)
	rep := runQuestionSet(t, filepath.Join("testdata", "questions-extra.jsonl"))
	if rep.Top1Rate() < 85 || rep.Top3Rate() < 93 || rep.RejectRate() < 92 {
		t.Fatalf("answers regressed below the floors (top-1 ≥85, top-3 ≥93, rejected ≥92)")
	}
}
