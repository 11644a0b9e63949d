package service

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/impbot/impbot/bot"
	"github.com/impbot/impbot/bot/insights"
	"github.com/impbot/impbot/bot/redistest"
)

// TestOpsGapsSharedInRedis runs two replicas on one Redis: unanswered
// questions and feedback recorded through each show in the /admin/gaps
// report of either, and in `kb gaps` with the same config.
func TestOpsGapsSharedInRedis(t *testing.T) {
	srv := redistest.Start(t)
	var reps [2]*opsServed
	var cfgs [2]Config
	for i := range reps {
		cfg := opsSmallConfig(t)
		cfg.Organization.Name = fmt.Sprintf("%s-replica%d", cfg.Organization.Name, i)
		cfg.Sessions.Backend = "redis"
		cfg.Sessions.Redis.URL = srv.URL()
		cfg.Sessions.Redis.Prefix = "gapsbot"
		cfgs[i] = cfg
		reps[i] = opsStartServe(t, cfg)
	}
	// Replica 0 gets two wordings of the bread question and a 👍, replica 1
	// the third wording, another question and a 👎.
	for i, q := range opsBread {
		s := reps[min(i/2, 1)]
		if r := opsFirstReply(s.ad.send(t, fmt.Sprintf("g%d", i), q, "")); r.Topic != "" {
			t.Fatalf("%q was answered with %s", q, r.Topic)
		}
	}
	reps[1].ad.send(t, "g9", "what is the weather in paris", "")
	reps[0].ad.send(t, "g8", "", bot.ActFeedback+"+:pgwp")
	reps[1].ad.send(t, "g9", "", bot.ActFeedback+"-:pgwp")
	for _, s := range reps {
		if err := s.st.insights.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	check := func(t *testing.T, from string, rep insights.Report) {
		t.Helper()
		if rep.Total != 4 || rep.Distinct != 2 || rep.Questions[0].Count != 3 {
			t.Fatalf("%s: total %d distinct %d, want 4 and 2: %+v", from, rep.Total, rep.Distinct, rep.Questions)
		}
		if len(rep.Feedback) != 1 || rep.Feedback[0].ID != "pgwp" || rep.Feedback[0].Helpful != 1 || rep.Feedback[0].Unhelpful != 1 {
			t.Fatalf("%s: feedback %+v", from, rep.Feedback)
		}
	}
	for i, s := range reps {
		tok, err := os.ReadFile(adminTokenPath(cfgs[i].Sessions.Path))
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("GET", "http://"+s.addr+"/admin/gaps?days=1", nil)
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("replica %d /admin/gaps: %d %s", i, resp.StatusCode, body)
		}
		var rep insights.Report
		if err := json.Unmarshal(body, &rep); err != nil {
			t.Fatal(err)
		}
		check(t, fmt.Sprintf("replica %d", i), rep)
	}
	// kb gaps reads Redis itself (no store file, no server needed).
	p := filepath.Join(t.TempDir(), "impbot.yaml")
	data := fmt.Sprintf("knowledge:\n  dir: %q\nsessions:\n  backend: redis\n  redis:\n    url: %q\n    prefix: gapsbot\n",
		cfgs[0].Knowledge.Dir, srv.URL())
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := opsRun(t, "kb", "gaps", "--config", p, "--json")
	if err != nil {
		t.Fatalf("kb gaps: %v\n%s", err, out)
	}
	var rep insights.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("kb gaps --json: %v\n%s", err, out)
	}
	check(t, "kb gaps", rep)
	// Message text is never logged, by either replica.
	for i, s := range reps {
		if strings.Contains(s.log.String(), "sourdough") {
			t.Fatalf("replica %d logged the question text", i)
		}
	}
}
