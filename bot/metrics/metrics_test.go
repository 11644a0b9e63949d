package metrics

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/impbot/impbot/bot"
)

// scrape fetches the metrics page and returns sample values by
// `name{labels}` (labels as printed, in the exposition's order).
func scrape(t *testing.T, m *Metrics) map[string]float64 {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("content type %q", ct)
	}
	return Parse(t, resp.Body)
}

// Parse reads the Prometheus text format into samples.
func Parse(t *testing.T, r io.Reader) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad sample line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

func want(t *testing.T, got map[string]float64, series string, v float64) {
	t.Helper()
	g, ok := got[series]
	if !ok {
		t.Errorf("series %s missing", series)
		return
	}
	if g != v {
		t.Errorf("%s = %v, want %v", series, g, v)
	}
}

func TestCounters(t *testing.T) {
	m := New()
	m.MessageIn("telegram")
	m.MessageIn("telegram")
	m.MessageOut("discord")
	m.APIError("telegram", "429")
	m.APIError("discord", "5xx")
	m.Reconnect("discord")
	m.Question(bot.QuestionEvent{Platform: "telegram", Outcome: bot.OutcomeAnswered, Latency: 2 * time.Millisecond})
	m.Question(bot.QuestionEvent{Platform: "telegram", Outcome: bot.OutcomeUnrelated})
	m.Question(bot.QuestionEvent{Platform: "discord", Outcome: bot.OutcomeUnsure})
	m.Feedback(bot.FeedbackEvent{Topic: "pgwp", Helpful: true})
	m.Feedback(bot.FeedbackEvent{Topic: "pgwp", Helpful: false})
	m.Feedback(bot.FeedbackEvent{Topic: "pgwp", Helpful: false})
	m.SetArticles(60)
	m.Reload(nil, 61)
	m.Reload(errors.New("broken"), 0)

	var step int
	h := bot.Chain(bot.HandlerFunc(func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
		step++
		switch step {
		case 1:
			return &bot.Response{Dialogue: &bot.DialogueState{Started: true, Ask: "q1"}}, nil
		case 2:
			return &bot.Response{Dialogue: &bot.DialogueState{Ask: "q2"}}, nil
		case 3:
			return &bot.Response{Dialogue: &bot.DialogueState{Done: true}}, nil
		}
		return nil, errors.New("boom")
	}), m.Middleware())
	for range 4 {
		_, _ = h.Handle(context.Background(), &bot.Request{Platform: "discord"})
	}

	got := scrape(t, m)
	want(t, got, `impbot_messages_received_total{platform="telegram"}`, 2)
	want(t, got, `impbot_messages_received_total{platform="discord"}`, 0)
	want(t, got, `impbot_messages_sent_total{platform="discord"}`, 1)
	want(t, got, `impbot_api_errors_total{kind="429",platform="telegram"}`, 1)
	want(t, got, `impbot_api_errors_total{kind="5xx",platform="discord"}`, 1)
	want(t, got, `impbot_reconnects_total{platform="discord"}`, 1)
	want(t, got, `impbot_questions_total{outcome="answered",platform="telegram"}`, 1)
	want(t, got, `impbot_questions_total{outcome="unrelated",platform="telegram"}`, 1)
	want(t, got, `impbot_questions_total{outcome="unsure",platform="discord"}`, 1)
	want(t, got, `impbot_questions_total{outcome="redirect",platform="console"}`, 0)
	want(t, got, `impbot_search_duration_seconds_count`, 1)
	want(t, got, `impbot_feedback_total{article="pgwp",vote="helpful"}`, 1)
	want(t, got, `impbot_feedback_total{article="pgwp",vote="unhelpful"}`, 2)
	want(t, got, `impbot_knowledge_reloads_total`, 2)
	want(t, got, `impbot_knowledge_reload_failures_total`, 1)
	want(t, got, `impbot_knowledge_last_reload_ok`, 0)
	want(t, got, `impbot_knowledge_articles`, 61)
	want(t, got, `impbot_requests_total{platform="discord"}`, 4)
	want(t, got, `impbot_request_errors_total{platform="discord"}`, 1)
	want(t, got, `impbot_answer_duration_seconds_count{platform="discord"}`, 4)
	want(t, got, `impbot_dialogue_starts_total{platform="discord"}`, 1)
	want(t, got, `impbot_dialogue_completions_total{platform="discord"}`, 1)
	if got[`impbot_knowledge_last_reload_timestamp_seconds`] < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("reload timestamp = %v", got[`impbot_knowledge_last_reload_timestamp_seconds`])
	}
	if _, ok := got[`go_goroutines`]; !ok {
		t.Error("go runtime metrics missing")
	}
}

func TestOwnRegistry(t *testing.T) {
	m := New()
	m.MessageIn("telegram")
	New() // a second instance must not conflict
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), Namespace+"_") {
			t.Fatalf("%s is on the global registry", mf.GetName())
		}
	}
}

func TestLabelsBounded(t *testing.T) {
	m := New()
	m.MessageIn("")
	m.APIError("telegram", strings.Repeat("é", 100))
	got := scrape(t, m)
	want(t, got, `impbot_messages_received_total{platform="unknown"}`, 1)
	for k := range got {
		if strings.Contains(k, "é") && len(k) > 200 {
			t.Errorf("long label kept: %s", k)
		}
	}
}
