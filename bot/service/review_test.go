package service

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/impbot/impbot/knowledge"
)

// TestTeacherLearnsFromTheStaffChat: a missed question is proposed with its
// likely article; confirming it adds the phrasing to the article file and
// reloads, so the same question is then answered. No YAML edited by hand.
func TestTeacherLearnsFromTheStaffChat(t *testing.T) {
	t.Parallel()
	cfg := opsSmallConfig(t)
	s := opsStartServe(t, cfg)
	// A phrasing the bot does not answer confidently yet.
	var q string
	var before = opsFirstReply(nil)
	for i, c := range []string{
		"stay after uni",
		"post grad",
	} {
		r := opsFirstReply(s.ad.send(t, fmt.Sprintf("u%d", i), c, ""))
		if r.Topic == "" || r.Score < lowConfidence {
			q, before = c, r
			break
		}
	}
	if q == "" {
		t.Fatal("every candidate phrasing is already answered confidently")
	}
	tc := teacher{s.app}
	ps, err := tc.Proposals(context.Background(), 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].Question != q || ps[0].Lang != "en" || len(ps[0].Articles) == 0 {
		t.Fatalf("proposals %+v", ps)
	}
	msg, err := tc.Learn(context.Background(), q, "en", "pgwp")
	if err != nil || !strings.Contains(msg, "Added to en/pgwp") {
		t.Fatalf("learn: %q %v", msg, err)
	}
	data, _ := os.ReadFile(filepath.Join(cfg.Knowledge.Dir, "en", "pgwp.md"))
	if !strings.Contains(string(data), "  - "+q+"\n") {
		t.Fatalf("phrasing not in the file:\n%s", data)
	}
	// The reloaded index knows the phrasing: pgwp is now the best candidate,
	// more confident than anything was before. (A question with no domain
	// word at all stays damped below the answering threshold: the ranking
	// treats it as possibly off-topic.)
	res, err := s.app.Router.Index().Search(context.Background(), "en", q, 6)
	if err != nil {
		t.Fatal(err)
	}
	if top := res.Top(); top.ID != "pgwp" || top.Confidence <= before.Score {
		t.Errorf("after learning: top %s %.2f (before: %q %.2f)", top.ID, top.Confidence, before.Topic, before.Score)
	}
	// Again: nothing to add.
	if msg, err := tc.Learn(context.Background(), q, "en", "pgwp"); err != nil || !strings.Contains(msg, "already has") {
		t.Errorf("second learn: %q %v", msg, err)
	}
	// The embedded knowledge cannot be taught.
	if _, err := (teacher{&App{}}).Learn(context.Background(), q, "en", "bowp"); err == nil || !strings.Contains(err.Error(), "knowledge.dir") {
		t.Errorf("learn without a folder: %v", err)
	}
}

// TestReviewOverdueInReadyzAndMetrics: an article not reviewed for 180 days
// shows in /readyz (a warning; still ready) and in the metric.
func TestReviewOverdueInReadyzAndMetrics(t *testing.T) {
	t.Parallel()
	cfg := opsSmallConfig(t)
	p := filepath.Join(cfg.Knowledge.Dir, "en", "pgwp.md")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	old := regexp.MustCompile(`(?m)^reviewed: .*$`).ReplaceAllString(string(data), "reviewed: 2020-01-01")
	if err := os.WriteFile(p, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	b, probs := knowledge.LoadDir(cfg.Knowledge.Dir)
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	want := len(b.Stale(time.Now()))
	if want < 1 {
		t.Fatal("the old article is not stale")
	}
	s := opsStartServe(t, cfg)
	code, body := s.get(t, "/readyz")
	var ready map[string]string
	if err := json.Unmarshal([]byte(body), &ready); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if code != http.StatusOK || !strings.HasPrefix(ready["knowledge_review"], "warning: ") ||
		!strings.Contains(ready["knowledge_review"], fmt.Sprintf("%d article(s) or fact(s) overdue", want)) {
		t.Errorf("/readyz %d %q", code, body)
	}
	_, metrics := s.get(t, "/metrics")
	if line := fmt.Sprintf("impbot_knowledge_review_overdue %d\n", want); !strings.Contains(metrics, line) {
		t.Errorf("metrics lack %q", line)
	}
}

// TestOneFactEditChangesEveryAnswer: editing a fee in facts.yaml changes the
// served answers after the hot reload, without touching an article.
func TestOneFactEditChangesEveryAnswer(t *testing.T) {
	t.Parallel()
	cfg := opsSmallConfig(t)
	s := opsStartServe(t, cfg)
	<-s.st.watching
	const q = "how much does the PGWP cost"
	bodyOf := func() string { return opsFirstReply(s.ad.send(t, "f1", q, "")).Text }
	if !strings.Contains(bodyOf(), "$155") {
		t.Fatalf("before: %q", bodyOf())
	}
	p := filepath.Join(cfg.Knowledge.Dir, knowledge.FactsFile)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(data), "fee.work_permit:\n  kind: money\n  value: 155\n", "fee.work_permit:\n  kind: money\n  value: 161.5\n", 1)
	if edited == string(data) {
		t.Fatal("facts.yaml has no fee.work_permit of 155: update the test")
	}
	opsWriteAtomic(t, p, []byte(edited))
	opsEventually(t, patience, "the new fee served", func() bool {
		return strings.Contains(bodyOf(), "$161.50")
	})
	if strings.Contains(bodyOf(), "$155") {
		t.Errorf("the old fee is still shown:\n%s", bodyOf())
	}
}
