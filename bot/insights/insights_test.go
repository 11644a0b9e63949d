package insights

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
	"github.com/impbot/impbot/bot/redistest"
	"github.com/impbot/impbot/index"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func openDB(t *testing.T, path string) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// stores runs f against a bbolt-backed, an in-memory and a Redis-backed
// store (a real redis-server).
func stores(t *testing.T, opt Options, f func(t *testing.T, s *Store, clk *clock)) {
	for _, mode := range []string{"bbolt", "memory", "redis"} {
		t.Run(mode, func(t *testing.T) {
			clk := &clock{t: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)}
			o := opt
			o.Now = clk.Now
			var db *bbolt.DB
			if mode == "bbolt" {
				db = openDB(t, filepath.Join(t.TempDir(), "s.db"))
				t.Cleanup(func() { db.Close() })
			}
			var s *Store
			var err error
			if mode == "redis" {
				s, err = OpenRedis(openRedis(t, redistest.Start(t), "impbot"), o)
			} else {
				s, err = Open(db, o)
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			f(t, s, clk)
		})
	}
}

func q(clk *clock, text, outcome string, cands ...index.Hit) bot.QuestionEvent {
	return bot.QuestionEvent{Time: clk.Now(), Platform: "telegram", Lang: "en", Text: text, Outcome: outcome, Candidates: cands}
}

func TestNormalize(t *testing.T) {
	cases := map[string]string{
		"Can I work in Québec?":              "can i work in quebec",
		"  can   i WORK in quebec  ":         "can i work in quebec",
		"can-i_work...in,quebec!!":           "can i work in quebec",
		"Ça coûte combien, l’EIMT ?":         "ca coute combien l eimt",
		"Cafe\u0301 Straße":                  "cafe strasse",
		"?!…":                                "",
		"PGWP 2026: 3 years?":                "pgwp 2026 3 years",
		"emoji 🙂 in between":                 "emoji in between",
		"Œuvre, Ærø, Łódź, Dvořák, İstanbul": "oeuvre aero lodz dvorak istanbul",
	}
	for in, want := range cases {
		got := Normalize(in)
		// İ lower-cases to i + combining dot, which is dropped.
		if got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRecordAndReport(t *testing.T) {
	stores(t, Options{Retention: DefaultRetention}, func(t *testing.T, s *Store, clk *clock) {
		ctx := context.Background()
		s.Question(q(clk, "How do I bake bread?", bot.OutcomeUnrelated, index.Hit{ID: "work-without-permit", Confidence: 0.12}))
		clk.Add(time.Minute)
		s.Question(q(clk, "how do i BAKE bread", bot.OutcomeUnrelated, index.Hit{ID: "work-without-permit", Confidence: 0.2}, index.Hit{ID: "iec-overview", Confidence: 0.1}))
		clk.Add(time.Minute)
		ev := q(clk, "How do I bake  bread !", bot.OutcomeUnsure)
		ev.Platform, ev.Lang = "discord", "fr"
		s.Question(ev)
		s.Question(q(clk, "what is a PGWP", bot.OutcomeAnswered, index.Hit{ID: "pgwp", Confidence: 0.9}))
		s.Question(q(clk, "pgwp", bot.OutcomeRedirect))
		s.Question(q(clk, "   ", bot.OutcomeUnrelated))
		clk.Add(time.Minute)
		s.Question(q(clk, "Is my spouse covered?", bot.OutcomeUnsure, index.Hit{ID: "spousal-owp-workers", Confidence: 0.4}))
		s.Feedback(bot.FeedbackEvent{Time: clk.Now(), Topic: "pgwp", Helpful: true})
		s.Feedback(bot.FeedbackEvent{Time: clk.Now(), Topic: "pgwp", Helpful: false})
		s.Feedback(bot.FeedbackEvent{Time: clk.Now(), Topic: "pgwp", Helpful: true})
		s.Feedback(bot.FeedbackEvent{Time: clk.Now(), Topic: "bowp", Helpful: false})
		s.Feedback(bot.FeedbackEvent{Time: clk.Now(), Topic: "bowp", Helpful: false})
		s.Feedback(bot.FeedbackEvent{Time: clk.Now(), Topic: ""})

		rep, err := s.Report(ctx, ReportOptions{Since: clk.Now().Add(-24 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Total != 4 || rep.Distinct != 2 || !rep.Recording {
			t.Fatalf("total %d distinct %d recording %v, want 4, 2, true: %+v", rep.Total, rep.Distinct, rep.Recording, rep)
		}
		g := rep.Questions[0]
		if g.Normalized != "how do i bake bread" || g.Count != 3 || g.Text != "How do I bake  bread !" {
			t.Fatalf("first group = %+v", g)
		}
		if g.Outcomes[bot.OutcomeUnrelated] != 2 || g.Outcomes[bot.OutcomeUnsure] != 1 ||
			g.Platforms["telegram"] != 2 || g.Platforms["discord"] != 1 || g.Langs["fr"] != 1 {
			t.Fatalf("group counts = %+v", g)
		}
		if !g.LastSeen.Equal(clk.Now().Add(-time.Minute)) || !g.FirstSeen.Equal(clk.Now().Add(-3*time.Minute)) {
			t.Fatalf("first/last seen = %v / %v", g.FirstSeen, g.LastSeen)
		}
		want := []Candidate{{"work-without-permit", 0.2}, {"iec-overview", 0.1}}
		if fmt.Sprint(g.Nearest) != fmt.Sprint(want) {
			t.Fatalf("nearest = %v, want %v", g.Nearest, want)
		}
		if rep.Questions[1].Normalized != "is my spouse covered" || rep.Questions[1].Count != 1 {
			t.Fatalf("second group = %+v", rep.Questions[1])
		}
		wantFB := []ArticleFeedback{{"bowp", 0, 2}, {"pgwp", 2, 1}}
		if fmt.Sprint(rep.Feedback) != fmt.Sprint(wantFB) {
			t.Fatalf("feedback = %v, want %v", rep.Feedback, wantFB)
		}
		top1, err := s.Report(ctx, ReportOptions{Since: clk.Now().Add(-24 * time.Hour), Top: 1, Nearest: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(top1.Questions) != 1 || len(top1.Questions[0].Nearest) != 1 || top1.Distinct != 2 {
			t.Fatalf("top 1 = %+v", top1)
		}
		// The period excludes older records.
		recent, err := s.Report(ctx, ReportOptions{Since: clk.Now().Add(-90 * time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		if recent.Total != 2 {
			t.Fatalf("last 90 s: %d questions, want 2 (%+v)", recent.Total, recent.Questions)
		}
	})
}

func TestRetention(t *testing.T) {
	opt := Options{Retention: 2 * 24 * time.Hour, FeedbackRetention: 3 * 24 * time.Hour}
	stores(t, opt, func(t *testing.T, s *Store, clk *clock) {
		ctx := context.Background()
		long := clk.Now().Add(-365 * 24 * time.Hour)
		s.Question(q(clk, "old question", bot.OutcomeUnrelated))
		s.Feedback(bot.FeedbackEvent{Time: clk.Now(), Topic: "pgwp", Helpful: true})
		clk.Add(36 * time.Hour)
		s.Question(q(clk, "newer question", bot.OutcomeUnrelated))
		clk.Add(24 * time.Hour) // the first question is now 60 h old
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if err := s.Sweep(); err != nil {
			t.Fatal(err)
		}
		rep, err := s.Report(ctx, ReportOptions{Since: long})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Total != 1 || rep.Questions[0].Text != "newer question" {
			t.Fatalf("after sweep: %+v", rep.Questions)
		}
		if len(rep.Feedback) != 1 {
			t.Fatalf("feedback within its retention was swept: %+v", rep.Feedback)
		}
		clk.Add(48 * time.Hour)
		if err := s.Sweep(); err != nil {
			t.Fatal(err)
		}
		rep, err = s.Report(ctx, ReportOptions{Since: long})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Total != 0 || len(rep.Feedback) != 0 {
			t.Fatalf("after the retention: %+v %+v", rep.Questions, rep.Feedback)
		}
	})
}

func TestRecordingOff(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	db := openDB(t, path)
	defer db.Close()
	now := time.Now()
	s, err := Open(db, Options{Retention: DefaultRetention})
	if err != nil {
		t.Fatal(err)
	}
	s.Question(bot.QuestionEvent{Time: now, Text: "kept until recording is turned off", Outcome: bot.OutcomeUnrelated})
	s.Close()

	s, err = Open(db, Options{Retention: 0})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Recording() {
		t.Fatal("Recording() with retention 0")
	}
	s.Question(bot.QuestionEvent{Time: now, Text: "not recorded", Outcome: bot.OutcomeUnrelated})
	s.Feedback(bot.FeedbackEvent{Time: now, Topic: "pgwp", Helpful: true})
	rep, err := s.Report(context.Background(), ReportOptions{Since: now.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Total != 0 || rep.Recording {
		t.Fatalf("recording off: %+v", rep)
	}
	if len(rep.Feedback) != 1 {
		t.Fatalf("feedback counts are kept with recording off: %+v", rep.Feedback)
	}
}

func TestPersistsAndReadOnlyReport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	db := openDB(t, path)
	s, err := Open(db, Options{Retention: DefaultRetention})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for i := range 3 {
		s.Question(bot.QuestionEvent{Time: now, Platform: "discord", Text: fmt.Sprintf("question %d", i%2), Outcome: bot.OutcomeUnsure})
	}
	s.Feedback(bot.FeedbackEvent{Time: now, Topic: "iec-overview", Helpful: false})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s.Question(bot.QuestionEvent{Time: now, Text: "after close", Outcome: bot.OutcomeUnsure}) // must not panic
	if s.Dropped() != 1 {
		t.Fatalf("dropped = %d, want 1", s.Dropped())
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	ro, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := Open(ro, Options{Retention: DefaultRetention}); err == nil {
		t.Fatal("Open on a read-only db succeeded")
	}
	rep, err := ReadReport(ro, ReportOptions{Since: now.Add(-time.Hour)}, now)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Total != 3 || rep.Distinct != 2 || rep.Questions[0].Normalized != "question 0" || rep.Questions[0].Count != 2 {
		t.Fatalf("read-only report: %+v", rep)
	}
	if len(rep.Feedback) != 1 || rep.Feedback[0] != (ArticleFeedback{"iec-overview", 0, 1}) {
		t.Fatalf("feedback: %+v", rep.Feedback)
	}
}

func TestTextClippedAndSanitized(t *testing.T) {
	stores(t, Options{Retention: DefaultRetention}, func(t *testing.T, s *Store, clk *clock) {
		long := strings.Repeat("é", MaxTextRunes+50) + "\xff"
		s.Question(q(clk, long, bot.OutcomeUnrelated))
		s.Question(q(clk, "bad \xff\xfe utf8", bot.OutcomeUnrelated))
		rep, err := s.Report(context.Background(), ReportOptions{Since: clk.Now().Add(-time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Total != 2 {
			t.Fatalf("total %d", rep.Total)
		}
		for _, g := range rep.Questions {
			if strings.ContainsRune(g.Text, '\uFFFD') || strings.Contains(g.Text, "\xff") {
				t.Errorf("invalid UTF-8 kept: %q", g.Text)
			}
			if n := len([]rune(g.Text)); n > MaxTextRunes {
				t.Errorf("text of %d runes kept", n)
			}
		}
	})
}

func TestDamagedRecordSkipped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	db := openDB(t, path)
	defer db.Close()
	s, err := Open(db, Options{Retention: DefaultRetention})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	err = db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketQuestions).Put(questionKey(now, 1), []byte("{not json"))
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Question(bot.QuestionEvent{Time: now, Text: "fine", Outcome: bot.OutcomeUnsure})
	rep, err := s.Report(context.Background(), ReportOptions{Since: now.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Total != 1 {
		t.Fatalf("total = %d, want 1", rep.Total)
	}
}

// TestConcurrent records from many goroutines while reporting; run with
// -race. Every event is either written or counted as dropped.
func TestConcurrent(t *testing.T) {
	stores(t, Options{Retention: DefaultRetention}, func(t *testing.T, s *Store, clk *clock) {
		const workers, each = 8, 200
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := range each {
					s.Question(q(clk, fmt.Sprintf("question %d", i%10), bot.OutcomeUnrelated, index.Hit{ID: "pgwp", Confidence: 0.1}))
					s.Feedback(bot.FeedbackEvent{Time: clk.Now(), Topic: fmt.Sprintf("a%d", w), Helpful: i%2 == 0})
				}
			})
		}
		wg.Go(func() {
			for range 5 {
				if _, err := s.Report(context.Background(), ReportOptions{Since: clk.Now().Add(-time.Hour)}); err != nil {
					t.Error(err)
				}
			}
		})
		wg.Wait()
		rep, err := s.Report(context.Background(), ReportOptions{Since: clk.Now().Add(-time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		var fb uint64
		for _, f := range rep.Feedback {
			fb += f.Helpful + f.Unhelpful
		}
		got := uint64(rep.Total) + fb + s.Dropped()
		if got != 2*workers*each {
			t.Fatalf("written %d + %d feedback + dropped %d = %d, want %d", rep.Total, fb, s.Dropped(), got, 2*workers*each)
		}
		if rep.Distinct != 10 {
			t.Fatalf("distinct = %d, want 10", rep.Distinct)
		}
	})
}

func TestMemoryBound(t *testing.T) {
	clk := &clock{t: time.Now()}
	s, err := Open(nil, Options{Retention: DefaultRetention, MaxMemory: 5, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		s.Question(q(clk, fmt.Sprintf("q%d", i), bot.OutcomeUnrelated))
	}
	rep, err := s.Report(context.Background(), ReportOptions{Since: clk.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Total != 5 {
		t.Fatalf("kept %d in memory, want 5", rep.Total)
	}
	kept := map[string]bool{"q7": true, "q8": true, "q9": true, "q10": true, "q11": true}
	for _, g := range rep.Questions {
		if !kept[g.Text] {
			t.Fatalf("an old question was kept: %q", g.Text)
		}
	}
}

func TestLowConfidenceAnswersAreRecorded(t *testing.T) {
	stores(t, Options{Retention: DefaultRetention, LowConfidence: 0.5}, func(t *testing.T, s *Store, clk *clock) {
		s.Question(q(clk, "can my partner work here", bot.OutcomeAnswered, index.Hit{ID: "spousal-owp-workers", Confidence: 0.42}, index.Hit{ID: "spousal-owp-students", Confidence: 0.35}))
		s.Question(q(clk, "what is a PGWP", bot.OutcomeAnswered, index.Hit{ID: "pgwp", Confidence: 0.9}))
		s.Question(q(clk, "pgwp redirect", bot.OutcomeRedirect, index.Hit{ID: "oos-study-permits", Confidence: 0.45}))
		rep, err := s.Report(context.Background(), ReportOptions{Since: clk.Now().Add(-time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Total != 1 || rep.Questions[0].Outcomes[OutcomeLowConfidence] != 1 || rep.Questions[0].Nearest[0].ID != "spousal-owp-workers" {
			t.Fatalf("report = %+v", rep)
		}
	})
	// Off by default: only unsure and unrelated questions.
	stores(t, Options{Retention: DefaultRetention}, func(t *testing.T, s *Store, clk *clock) {
		s.Question(q(clk, "can my partner work here", bot.OutcomeAnswered, index.Hit{ID: "spousal-owp-workers", Confidence: 0.42}))
		rep, _ := s.Report(context.Background(), ReportOptions{Since: clk.Now().Add(-time.Hour)})
		if rep.Total != 0 {
			t.Fatalf("recorded with LowConfidence off: %+v", rep)
		}
	})
}
