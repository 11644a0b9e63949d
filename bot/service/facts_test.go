package service

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTeacherLearnsFromTheStaffChat: a missed question is proposed with its
// likely article; confirming it adds the phrasing to the article file and
// reloads, so the same question is then answered. No YAML edited by hand.
func TestTeacherLearnsFromTheStaffChat(t *testing.T) {
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
	s.app.Cfg.Knowledge.Dir = ""
	if _, err := tc.Learn(context.Background(), q, "en", "bowp"); err == nil || !strings.Contains(err.Error(), "knowledge.dir") {
		t.Errorf("learn without a folder: %v", err)
	}
}
