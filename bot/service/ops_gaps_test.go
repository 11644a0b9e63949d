package service

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/impbot/impbot/bot"
	"github.com/impbot/impbot/bot/insights"
)

// opsConfigFile writes the parts of cfg that `kb gaps` reads.
func opsConfigFile(t *testing.T, cfg Config) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "impbot.yaml")
	data := fmt.Sprintf("knowledge:\n  dir: %q\nhttp:\n  addr: %q\nsessions:\n  path: %q\n",
		cfg.Knowledge.Dir, cfg.HTTP.Addr, cfg.Sessions.Path)
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func opsRun(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := runKBGaps(args, &out, &errOut)
	if err != nil {
		return out.String() + errOut.String(), err
	}
	return out.String(), nil
}

// runKBGaps is `impbot kb gaps ARGS...` (args start with "kb", "gaps").
func runKBGaps(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("kb gaps", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o GapsOptions
	fs.StringVar(&o.ConfigPath, "config", "", "")
	fs.IntVar(&o.Days, "days", 0, "")
	fs.IntVar(&o.Top, "top", 20, "")
	fs.BoolVar(&o.JSON, "json", false, "")
	fs.StringVar(&o.Addr, "addr", "", "")
	if len(args) < 2 || args[0] != "kb" || args[1] != "gaps" {
		return fmt.Errorf("not a kb gaps command: %q", args)
	}
	if err := fs.Parse(args[2:]); err != nil {
		return err
	}
	return KBGaps(context.Background(), stdout, o)
}

var opsBread = []string{
	"How do I bake sourdough bread in Canada?",
	"how do i bake sourdough bread in canada",
	"HOW DO I BAKE SOURDOUGH BREAD IN CANADA!!",
}

// TestOpsKBGaps records unanswered questions and feedback through serve and
// reads the report with `kb gaps`: over HTTP while serve holds the store,
// from the file once it has stopped.
func TestOpsKBGaps(t *testing.T) {
	t.Parallel()
	defer func(d time.Duration) { gapsLockWait = d }(gapsLockWait)
	gapsLockWait = 50 * time.Millisecond
	cfg := opsSmallConfig(t)
	cfgFile := opsConfigFile(t, cfg)
	s := opsStartServe(t, cfg)
	for i, q := range opsBread {
		if r := opsFirstReply(s.ad.send(t, fmt.Sprintf("g%d", i), q, "")); r.Topic != "" {
			t.Fatalf("%q was answered with %s: pick another unrelated question", q, r.Topic)
		}
	}
	s.ad.send(t, "g9", "what is the weather in paris", "")
	s.ad.send(t, "g9", opsPGWPQuestion, "") // answered: not recorded
	for _, a := range []string{"+:pgwp", "+:pgwp", "-:pgwp", "-:bowp", "-:bowp", "+:no-such-article"} {
		s.ad.send(t, "g9", "", bot.ActFeedback+a)
	}

	// The expected nearest articles: the search's top candidates.
	res, err := s.app.Router.Index().Search(context.Background(), "en", opsBread[0], 6)
	if err != nil {
		t.Fatal(err)
	}
	var nearest []insights.Candidate
	for _, h := range res.Hits[:min(len(res.Hits), insights.MaxCandidates)] {
		nearest = append(nearest, insights.Candidate{ID: h.ID, Confidence: h.Confidence})
	}
	sort.SliceStable(nearest, func(i, j int) bool {
		if nearest[i].Confidence != nearest[j].Confidence {
			return nearest[i].Confidence > nearest[j].Confidence
		}
		return nearest[i].ID < nearest[j].ID
	})

	check := func(t *testing.T, out string, rep insights.Report) {
		t.Helper()
		if rep.Total != 4 || rep.Distinct != 2 {
			t.Fatalf("total %d distinct %d, want 4 and 2:\n%s", rep.Total, rep.Distinct, out)
		}
		g := rep.Questions[0]
		if g.Count != 3 || g.Normalized != "how do i bake sourdough bread in canada" || g.Text != opsBread[2] {
			t.Fatalf("first group %+v", g)
		}
		if fmt.Sprint(g.Nearest) != fmt.Sprint(opsNonNil(nearest)) {
			t.Fatalf("nearest %v, want %v", g.Nearest, nearest)
		}
		if g.Platforms[opsPlatform] != 3 || g.Outcomes[bot.OutcomeUnrelated] != 3 {
			t.Fatalf("group counts %+v", g)
		}
		wantFB := []insights.ArticleFeedback{{ID: "bowp", Unhelpful: 2}, {ID: "pgwp", Helpful: 2, Unhelpful: 1}}
		if fmt.Sprint(rep.Feedback) != fmt.Sprint(wantFB) {
			t.Fatalf("feedback %v, want %v", rep.Feedback, wantFB)
		}
	}
	checkText := func(t *testing.T, out string) {
		t.Helper()
		for _, re := range []string{
			`4 recorded, 2 distinct`,
			`(?m)^\s+3×  HOW DO I BAKE SOURDOUGH BREAD IN CANADA!!$`,
			`(?m)^\s+1×  what is the weather in paris$`,
			`unrelated 3 · opstest 3 · en 3`,
			`(?m)^\s+bowp\s+0\s+2$`,
			`(?m)^\s+pgwp\s+2\s+1$`,
		} {
			if !regexp.MustCompile(re).MatchString(out) {
				t.Errorf("report lacks %s:\n%s", re, out)
			}
		}
		// Each group proposes its likely article as a kb learn command.
		if teach := fmt.Sprintf("teach:   impbot kb learn %q %s", opsBread[2], nearest[0].ID); !strings.Contains(out, teach) {
			t.Errorf("report lacks %q:\n%s", teach, out)
		}
		if strings.Contains(out, "pgwp valid") {
			t.Errorf("an answered question is in the report:\n%s", out)
		}
	}

	// While serving: the store is locked, so kb gaps asks the server.
	out, err := opsRun(t, "kb", "gaps", "--config", cfgFile, "--addr", s.addr)
	if err != nil {
		t.Fatalf("kb gaps: %v\n%s", err, out)
	}
	checkText(t, out)
	out, err = opsRun(t, "kb", "gaps", "--config", cfgFile, "--addr", s.addr, "--json")
	if err != nil {
		t.Fatalf("kb gaps --json: %v\n%s", err, out)
	}
	var rep insights.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	check(t, out, rep)
	out, err = opsRun(t, "kb", "gaps", "--config", cfgFile, "--addr", s.addr, "--top", "1")
	if err != nil || strings.Contains(out, "weather") {
		t.Fatalf("--top 1: %v\n%s", err, out)
	}
	// The config's address (port 0) cannot be reached: a clear error.
	if out, err := opsRun(t, "kb", "gaps", "--config", cfgFile); err == nil ||
		!strings.Contains(err.Error(), "in use by another process") || !strings.Contains(err.Error(), "--addr") {
		t.Fatalf("unreachable server: %v\n%s", err, out)
	}
	if out, err := opsRun(t, "kb", "gaps", "--config", cfgFile, "--addr", "127.0.0.1:1"); err == nil ||
		!strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("unreachable server: %v\n%s", err, out)
	}

	// The admin route wants the token, and only from loopback.
	tokPath := adminTokenPath(cfg.Sessions.Path)
	st, err := os.Stat(tokPath)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("admin token mode %v", st.Mode().Perm())
	}
	for _, auth := range []string{"", "Bearer wrong", "Basic x"} {
		req, _ := http.NewRequest("GET", "http://"+s.addr+"/admin/gaps", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("Authorization %q: %d", auth, resp.StatusCode)
		}
	}
	tok, _ := os.ReadFile(tokPath)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/admin/gaps", nil)
	req.RemoteAddr = "203.0.113.9:5555"
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	s.st.gapsHandler(strings.TrimSpace(string(tok)))(rec, req)
	if rec.Code != http.StatusForbidden {
		t.Fatalf("from a remote address: %d", rec.Code)
	}
	for _, q := range []string{"days=0", "days=x", "top=100000"} {
		req, _ := http.NewRequest("GET", "http://"+s.addr+"/admin/gaps?"+q, nil)
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d", q, resp.StatusCode)
		}
	}

	// Stopped: kb gaps reads the file; the token is gone.
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tokPath); !os.IsNotExist(err) {
		t.Fatalf("admin token left behind: %v", err)
	}
	out, err = opsRun(t, "kb", "gaps", "--config", cfgFile)
	if err != nil {
		t.Fatalf("kb gaps after stop: %v\n%s", err, out)
	}
	checkText(t, out)
	out, err = opsRun(t, "kb", "gaps", "--config", cfgFile, "--json", "--days", "7")
	if err != nil {
		t.Fatal(err)
	}
	rep = insights.Report{}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	check(t, out, rep)
}

func opsNonNil(c []insights.Candidate) []insights.Candidate {
	if c == nil {
		return []insights.Candidate{}
	}
	return c
}

func TestOpsKBGapsWithoutStore(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.Sessions.Path = filepath.Join(t.TempDir(), "never-created.db")
	out, err := opsRun(t, "kb", "gaps", "--config", opsConfigFile(t, cfg))
	if err != nil || !strings.Contains(out, "None recorded") {
		t.Fatalf("missing store: %v\n%s", err, out)
	}
	p := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(p, []byte("sessions:\n  path: \"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = opsRun(t, "kb", "gaps", "--config", p)
	if err == nil || !strings.Contains(err.Error(), "sessions.path is empty") {
		t.Fatalf("no store configured: %v\n%s", err, out)
	}
	if out, err := opsRun(t, "kb", "gaps", "--days", "-1"); err == nil {
		t.Fatalf("--days -1 accepted:\n%s", out)
	}
}

func TestOpsAdminBaseURLAndSafeText(t *testing.T) {
	t.Parallel()
	for in, want := range map[[2]string]string{
		{"", "127.0.0.1:8080"}:                  "http://127.0.0.1:8080",
		{"", "0.0.0.0:9000"}:                    "http://127.0.0.1:9000",
		{"", ":9000"}:                           "http://127.0.0.1:9000",
		{"", "[::]:9000"}:                       "http://127.0.0.1:9000",
		{"localhost:1234", "0.0.0.0:9000"}:      "http://localhost:1234",
		{"http://127.0.0.1:5/", "0.0.0.0:9000"}: "http://127.0.0.1:5",
	} {
		got, err := adminBaseURL(in[0], in[1])
		if err != nil || got != want {
			t.Errorf("adminBaseURL(%q, %q) = %q, %v; want %q", in[0], in[1], got, err, want)
		}
	}
	for _, bad := range []string{"nonsense", "127.0.0.1:0"} {
		if _, err := adminBaseURL(bad, ""); err == nil {
			t.Errorf("adminBaseURL accepted %q", bad)
		}
	}
	if got := safeText("a\x1b[31mred\x07\nb\u202ec"); got != "a [31mred  b c" {
		t.Errorf("safeText = %q", got)
	}
}

// TestOpsForgetKeepsNoIdentity checks that /forget succeeds with the recorder
// plugged in, and that what the recorder keeps identifies nobody.
func TestOpsForgetKeepsNoIdentity(t *testing.T) {
	t.Parallel()
	cfg := opsSmallConfig(t) // about the records, not the knowledge
	s := opsStartServe(t, cfg)
	const user = "user-7f3a9c"
	s.ad.send(t, user, opsBread[0], "")
	s.ad.send(t, user, "", bot.ActFeedback+"-:pgwp")
	r := opsFirstReply(s.ad.send(t, user, "/forget", ""))
	if r.Text != bot.Msg("en", "forgot") {
		t.Fatalf("/forget answered %q", r.Text)
	}
	if err := s.st.insights.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	db, err := s.app.DB()
	if err != nil || db == nil {
		t.Fatalf("store: %v", err)
	}
	secrets := []string{user, "chat-" + user, bot.Pseudonym(opsPlatform + ":chat-" + user + ":" + user)}
	var seen int
	err = db.View(func(tx *bbolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
			if !strings.HasPrefix(string(name), "insights.") {
				return nil
			}
			return b.ForEach(func(k, v []byte) error {
				seen++
				for _, s := range secrets {
					if bytes.Contains(k, []byte(s)) || bytes.Contains(v, []byte(s)) {
						t.Errorf("bucket %s keeps %q: %q=%q", name, s, k, v)
					}
				}
				return nil
			})
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen != 2 {
		t.Fatalf("%d records in the insights buckets, want 2 (a question and a feedback count)", seen)
	}
}

// TestOpsLogsKeepNoTextOrTokens runs serve over a burst of questions, feedback,
// /forget and a rejected reload, and checks that the log holds neither the
// message texts nor any token. The control run with log.message_text on
// shows that the check would see them; it runs on the small knowledge (what
// it shows is the request log's, whatever the knowledge: the texts and the
// dialogue answer logged when asked), which saves loading the whole
// knowledge a second time (1-3 CPU-s under -race, measured alone).
func TestOpsLogsKeepNoTextOrTokens(t *testing.T) {
	t.Parallel()
	const (
		marker  = "quokka"
		tgToken = "123456789:AAFakeTelegramTokenForLogTest"
		dcToken = "FakeDiscordTokenForLogTest.abc.def"
	)
	for _, logText := range []bool{false, true} {
		t.Run(fmt.Sprintf("message_text=%v", logText), func(t *testing.T) {
			cfg := opsConfig(t)
			if logText {
				cfg = opsSmallConfig(t)
			}
			cfg.Telegram.Token = tgToken
			cfg.Discord.Token = dcToken
			cfg.Telegram.Webhook.SecretToken = "FakeWebhookSecretForLogTest"
			cfg.Log.MessageText = logText
			s := opsStartServe(t, cfg)
			tok, err := os.ReadFile(adminTokenPath(cfg.Sessions.Path))
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for w := range 4 {
				wg.Go(func() {
					user := fmt.Sprintf("log-%d", w)
					for i := range 5 {
						s.ad.send(t, user, fmt.Sprintf("%s%d how long is a pgwp valid", marker, i), "")
						s.ad.send(t, user, fmt.Sprintf("%s%d bake sourdough bread", marker, i), "")
					}
					s.ad.send(t, user, "", bot.ActFeedback+"+:pgwp")
					// A dialogue answer is the user's own data too.
					s.ad.send(t, user, "/eligibility", "")
					s.ad.send(t, user, "", bot.ActDialogue+marker+"land")
					s.ad.send(t, user, "/forget", "")
				})
			}
			wg.Wait()
			if err := os.WriteFile(filepath.Join(cfg.Knowledge.Dir, "en", "broken.md"), []byte("no front matter\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			_ = s.st.reload("test")
			if err := s.stop(); err != nil {
				t.Fatal(err)
			}
			log := s.log.String()
			if n := strings.Count(log, `"msg":"request"`); n < 56 {
				t.Fatalf("%d request lines logged, want 56:\n%s", n, log)
			}
			if logText {
				if !strings.Contains(log, marker+"3 how long") || !strings.Contains(log, marker+"land") {
					t.Fatalf("message text not logged with log.message_text on:\n%s", log)
				}
				return
			}
			for _, secret := range []string{marker, "sourdough", "pgwp valid", tgToken, dcToken,
				"FakeWebhookSecretForLogTest", strings.TrimSpace(string(tok))} {
				if strings.Contains(log, secret) {
					t.Errorf("the log contains %q", secret)
				}
			}
			if !strings.Contains(log, "broken.md") {
				t.Errorf("the rejected reload was not logged")
			}
		})
	}
}
