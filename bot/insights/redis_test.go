package insights

import (
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/impbot/impbot/bot"
	"github.com/impbot/impbot/bot/cluster"
	"github.com/impbot/impbot/bot/redistest"
	"github.com/impbot/impbot/index"
)

func openRedis(t *testing.T, srv *redistest.Server, prefix string) *cluster.Redis {
	t.Helper()
	r, err := cluster.Open(cluster.Options{URL: srv.URL(), Prefix: prefix, Timeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// Two replicas record into one Redis: the report of either shows both, and
// another namespace sees nothing.
func TestRedisSharedAcrossReplicas(t *testing.T) {
	srv := redistest.Start(t)
	ctx := redistest.Context(t)
	now := time.Now()
	a, err := OpenRedis(openRedis(t, srv, "impbot"), Options{Retention: DefaultRetention})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := OpenRedis(openRedis(t, srv, "impbot"), Options{Retention: DefaultRetention})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	other, err := OpenRedis(openRedis(t, srv, "otherbot"), Options{Retention: DefaultRetention})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	a.Question(bot.QuestionEvent{Time: now, Platform: "telegram", Lang: "en", Text: "Can I bring my dog?", Outcome: bot.OutcomeUnrelated,
		Candidates: []index.Hit{{ID: "pgwp", Confidence: 0.1}}})
	b.Question(bot.QuestionEvent{Time: now.Add(time.Second), Platform: "discord", Lang: "fr", Text: "can i bring my DOG", Outcome: bot.OutcomeUnsure})
	b.Question(bot.QuestionEvent{Time: now, Platform: "web", Lang: "en", Text: "only on replica b", Outcome: bot.OutcomeUnsure})
	a.Feedback(bot.FeedbackEvent{Time: now, Topic: "pgwp", Helpful: true})
	b.Feedback(bot.FeedbackEvent{Time: now, Topic: "pgwp", Helpful: false})
	b.Feedback(bot.FeedbackEvent{Time: now, Topic: "pgwp", Helpful: true})
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*Store{"a": a, "b": b} {
		rep, err := s.Report(ctx, ReportOptions{Since: now.Add(-time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Total != 3 || rep.Distinct != 2 || rep.Questions[0].Count != 2 ||
			rep.Questions[0].Platforms["telegram"] != 1 || rep.Questions[0].Platforms["discord"] != 1 {
			t.Fatalf("replica %s report: %+v", name, rep)
		}
		if len(rep.Feedback) != 1 || rep.Feedback[0].Helpful != 2 || rep.Feedback[0].Unhelpful != 1 {
			t.Fatalf("replica %s feedback: %+v", name, rep.Feedback)
		}
	}
	// The report for `kb gaps` reads the same, without a store.
	rep, err := ReadRedisReport(ctx, openRedis(t, srv, "impbot"), ReportOptions{Since: now.Add(-time.Hour)}, time.Now())
	if err != nil || rep.Total != 3 {
		t.Fatalf("ReadRedisReport: %+v %v", rep, err)
	}
	rep, err = other.Report(ctx, ReportOptions{Since: now.Add(-time.Hour)})
	if err != nil || rep.Total != 0 || len(rep.Feedback) != 0 {
		t.Fatalf("another namespace sees %+v %v", rep, err)
	}
	// Keys are under the prefix, and no identity is stored (there is none
	// in the event: the store has nothing to leak).
	for _, k := range []string{"impbot:insights:q", "impbot:insights:fbdays", "impbot:insights:fb:" + day(now)} {
		if n, _ := srv.Do("EXISTS", k); n != ":1" {
			t.Fatalf("key %s missing (EXISTS %q)", k, n)
		}
	}
	if ttl, _ := srv.Do("PTTL", "impbot:insights:fb:"+day(now)); strings.HasPrefix(ttl, ":-") {
		t.Fatalf("the feedback day key does not expire: PTTL %s", ttl)
	}
}

// Recording off (retention 0) on a replica deletes the questions every
// replica recorded; feedback counts stay.
func TestRedisRecordingOffDeletes(t *testing.T) {
	srv := redistest.Start(t)
	ctx := redistest.Context(t)
	now := time.Now()
	a, err := OpenRedis(openRedis(t, srv, "impbot"), Options{Retention: DefaultRetention})
	if err != nil {
		t.Fatal(err)
	}
	a.Question(bot.QuestionEvent{Time: now, Text: "kept until recording is off", Outcome: bot.OutcomeUnrelated})
	a.Feedback(bot.FeedbackEvent{Time: now, Topic: "pgwp", Helpful: true})
	a.Close()
	if n, _ := srv.Do("ZCARD", "impbot:insights:q"); n != ":1" {
		t.Fatalf("ZCARD = %q before recording off, want 1", n)
	}
	off, err := OpenRedis(openRedis(t, srv, "impbot"), Options{Retention: 0})
	if err != nil {
		t.Fatal(err)
	}
	defer off.Close()
	off.Question(bot.QuestionEvent{Time: now, Text: "not recorded", Outcome: bot.OutcomeUnrelated})
	rep, err := off.Report(ctx, ReportOptions{Since: now.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Total != 0 || rep.Recording || len(rep.Feedback) != 1 {
		t.Fatalf("recording off: %+v", rep)
	}
	if n, _ := srv.Do("EXISTS", "impbot:insights:q"); n != ":0" {
		t.Fatalf("questions still in redis with recording off (EXISTS %q)", n)
	}
}

// A record of a newer format (a newer replica during a rolling upgrade) or
// a damaged one is skipped, not misread.
func TestRedisUnknownVersionSkipped(t *testing.T) {
	srv := redistest.Start(t)
	ctx := redistest.Context(t)
	r := openRedis(t, srv, "impbot")
	now := time.Now()
	s, err := OpenRedis(r, Options{Retention: DefaultRetention})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	score := float64(now.UnixMilli())
	for _, m := range []string{
		string([]byte{redisMagic, redisVersion + 1}) + "12345678" + `{"t":"2026-01-01T00:00:00Z","q":"future format","o":"unsure"}`,
		string([]byte{redisMagic, redisVersion}) + "12345678{not json",
		"plain text",
	} {
		if err := r.Client().ZAdd(ctx, r.Key("insights", "q"), redisZ(score, m)).Err(); err != nil {
			t.Fatal(err)
		}
	}
	s.Question(bot.QuestionEvent{Time: now, Text: "fine", Outcome: bot.OutcomeUnsure})
	rep, err := s.Report(ctx, ReportOptions{Since: now.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Total != 1 || rep.Questions[0].Text != "fine" {
		t.Fatalf("report = %+v", rep.Questions)
	}
}

// Redis stopped: recording drops and counts, never blocks or crashes; the
// report fails with an error; when Redis returns recording resumes.
func TestRedisDownDropsAndRecovers(t *testing.T) {
	srv := redistest.Start(t)
	ctx := redistest.Context(t)
	s, err := OpenRedis(openRedis(t, srv, "impbot"), Options{Retention: DefaultRetention})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	srv.Stop()
	now := time.Now()
	start := time.Now()
	for range 50 {
		s.Question(bot.QuestionEvent{Time: now, Text: "lost while redis is down", Outcome: bot.OutcomeUnsure})
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("recording waited for redis: %v", d)
	}
	if err := s.Flush(ctx); err == nil {
		t.Fatal("Flush with redis down: no error")
	}
	if s.Dropped() != 50 {
		t.Fatalf("dropped = %d, want 50", s.Dropped())
	}
	if _, err := s.Report(ctx, ReportOptions{Since: now.Add(-time.Hour)}); err == nil || !strings.Contains(err.Error(), "redis") {
		t.Fatalf("report with redis down: %v", err)
	}
	srv.Restart()
	s.Question(bot.QuestionEvent{Time: now, Text: "recorded after redis returned", Outcome: bot.OutcomeUnsure})
	rep, err := s.Report(ctx, ReportOptions{Since: now.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Total != 1 || rep.Questions[0].Text != "recorded after redis returned" {
		t.Fatalf("after redis returned: %+v", rep.Questions)
	}
}

// The questions kept in Redis are bounded (the newest stay).
func TestRedisBound(t *testing.T) {
	srv := redistest.Start(t)
	ctx := redistest.Context(t)
	s, err := OpenRedis(openRedis(t, srv, "impbot"), Options{Retention: DefaultRetention, MaxShared: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	for i := range 12 {
		s.Question(bot.QuestionEvent{Time: now.Add(time.Duration(i) * time.Second), Text: "q" + string(rune('a'+i)), Outcome: bot.OutcomeUnsure})
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := s.Report(ctx, ReportOptions{Since: now.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Total != 5 {
		t.Fatalf("kept %d, want 5", rep.Total)
	}
	for _, g := range rep.Questions {
		if g.Text < "qh" {
			t.Fatalf("an old question was kept: %q", g.Text)
		}
	}
}

func redisZ(score float64, m string) redis.Z { return redis.Z{Score: score, Member: m} }
