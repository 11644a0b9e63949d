// Package metrics exposes the bot's Prometheus metrics on a registry of its
// own (never the global one): messages per platform, answer latency,
// outcomes, dialogues, feedback, knowledge reloads and platform API errors.
//
// One Metrics value is a bot.Stats (for the adapters), a bot.Observer (for
// the router's outcomes and feedback) and provides a bot.Middleware (for
// latency and dialogues).
package metrics

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/impbot/impbot/bot"
)

// Namespace prefixes every metric name.
const Namespace = "impbot"

// Platforms whose series are created at start, so dashboards see zeros
// rather than missing series.
var knownPlatforms = []string{"telegram", "discord", "console", "web"}

var outcomes = []string{bot.OutcomeAnswered, bot.OutcomeRedirect, bot.OutcomeUnsure, bot.OutcomeUnrelated}

// Metrics holds the collectors. It is safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	messagesIn  *prometheus.CounterVec
	messagesOut *prometheus.CounterVec
	apiErrors   *prometheus.CounterVec
	reconnects  *prometheus.CounterVec

	requests       *prometheus.CounterVec
	requestErrors  *prometheus.CounterVec
	answerLatency  *prometheus.HistogramVec
	searchLatency  prometheus.Histogram
	questions      *prometheus.CounterVec
	dialogueStarts *prometheus.CounterVec
	dialogueDone   *prometheus.CounterVec
	feedback       *prometheus.CounterVec

	reloads         prometheus.Counter
	reloadFailures  prometheus.Counter
	reloadOK        prometheus.Gauge
	reloadTimestamp prometheus.Gauge
	articles        prometheus.Gauge
}

// latencyBuckets span a cached answer (sub-millisecond) to a slow dialogue.
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}

// New returns metrics on a fresh registry, with the Go runtime and process
// collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	counterVec := func(name, help string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help}, labels)
		m.reg.MustRegister(c)
		return c
	}
	counter := func(name, help string) prometheus.Counter {
		c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help})
		m.reg.MustRegister(c)
		return c
	}
	gauge := func(name, help string) prometheus.Gauge {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Name: name, Help: help})
		m.reg.MustRegister(g)
		return g
	}
	m.messagesIn = counterVec("messages_received_total", "Messages and button presses received, per platform.", "platform")
	m.messagesOut = counterVec("messages_sent_total", "Messages sent, per platform.", "platform")
	m.apiErrors = counterVec("api_errors_total", "Failed calls to a platform's API (Telegram, Discord), per platform and kind (429, 4xx, 5xx, network).", "platform", "kind")
	m.reconnects = counterVec("reconnects_total", "Reconnections to a platform (Discord's gateway).", "platform")
	m.requests = counterVec("requests_total", "Requests handled by the router, per platform.", "platform")
	m.requestErrors = counterVec("request_errors_total", "Requests that failed with an error (the user got an apology), per platform.", "platform")
	m.answerLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "answer_duration_seconds",
		Help:    "Time to answer a request (search, dialogue, rendering), per platform.",
		Buckets: latencyBuckets,
	}, []string{"platform"})
	m.reg.MustRegister(m.answerLatency)
	m.searchLatency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "search_duration_seconds",
		Help:    "Time to search the knowledge for a free question.",
		Buckets: latencyBuckets,
	})
	m.reg.MustRegister(m.searchLatency)
	m.questions = counterVec("questions_total", "Free questions by outcome (answered, redirect, unsure, unrelated), per platform.", "platform", "outcome")
	m.dialogueStarts = counterVec("dialogue_starts_total", "Eligibility dialogues started, per platform.", "platform")
	m.dialogueDone = counterVec("dialogue_completions_total", "Eligibility dialogues completed (outcome shown), per platform.", "platform")
	m.feedback = counterVec("feedback_total", "Feedback on answers, per article and vote (helpful, unhelpful).", "article", "vote")
	m.reloads = counter("knowledge_reloads_total", "Knowledge reloads attempted (file change or SIGHUP).")
	m.reloadFailures = counter("knowledge_reload_failures_total", "Knowledge reloads rejected (the previous knowledge kept serving).")
	m.reloadOK = gauge("knowledge_last_reload_ok", "1 if the last knowledge reload succeeded (or none was tried), 0 if it was rejected.")
	m.reloadTimestamp = gauge("knowledge_last_reload_timestamp_seconds", "Unix time of the last knowledge reload attempt (0 before the first).")
	m.articles = gauge("knowledge_articles", "Articles in the knowledge being served (all languages).")
	m.reloadOK.Set(1)

	for _, p := range knownPlatforms {
		m.messagesIn.WithLabelValues(p)
		m.messagesOut.WithLabelValues(p)
		m.requests.WithLabelValues(p)
		m.requestErrors.WithLabelValues(p)
		m.dialogueStarts.WithLabelValues(p)
		m.dialogueDone.WithLabelValues(p)
		for _, o := range outcomes {
			m.questions.WithLabelValues(p, o)
		}
	}
	for _, p := range []string{"telegram", "discord"} {
		m.apiErrors.WithLabelValues(p, "network")
	}
	m.reconnects.WithLabelValues("discord")

	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry returns the registry, to add collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// label keeps label values bounded and readable: an empty value becomes
// "unknown" and long ones are cut.
func label(s string) string {
	if s == "" {
		return "unknown"
	}
	if len(s) > 64 {
		return strings.ToValidUTF8(s[:64], "")
	}
	return s
}

// MessageIn implements bot.Stats.
func (m *Metrics) MessageIn(platform string) { m.messagesIn.WithLabelValues(label(platform)).Inc() }

// MessageOut implements bot.Stats.
func (m *Metrics) MessageOut(platform string) { m.messagesOut.WithLabelValues(label(platform)).Inc() }

// APIError implements bot.Stats.
func (m *Metrics) APIError(platform, kind string) {
	m.apiErrors.WithLabelValues(label(platform), label(kind)).Inc()
}

// Reconnect implements bot.Stats.
func (m *Metrics) Reconnect(platform string) { m.reconnects.WithLabelValues(label(platform)).Inc() }

// Question implements bot.Observer: it counts the outcome and the search
// time.
func (m *Metrics) Question(ev bot.QuestionEvent) {
	m.questions.WithLabelValues(label(ev.Platform), label(ev.Outcome)).Inc()
	if ev.Latency > 0 {
		m.searchLatency.Observe(ev.Latency.Seconds())
	}
}

// Feedback implements bot.Observer.
func (m *Metrics) Feedback(ev bot.FeedbackEvent) {
	vote := "unhelpful"
	if ev.Helpful {
		vote = "helpful"
	}
	m.feedback.WithLabelValues(label(ev.Topic), vote).Inc()
}

// Middleware counts requests, errors, answer latency and dialogue starts and
// completions. Put it just around the router.
func (m *Metrics) Middleware() bot.Middleware {
	return func(next bot.Handler) bot.Handler {
		return bot.HandlerFunc(func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
			start := time.Now()
			resp, err := next.Handle(ctx, req)
			p := label(req.Platform)
			m.requests.WithLabelValues(p).Inc()
			m.answerLatency.WithLabelValues(p).Observe(time.Since(start).Seconds())
			if err != nil {
				m.requestErrors.WithLabelValues(p).Inc()
			}
			if resp != nil && resp.Dialogue != nil {
				if resp.Dialogue.Started {
					m.dialogueStarts.WithLabelValues(p).Inc()
				}
				if resp.Dialogue.Done {
					m.dialogueDone.WithLabelValues(p).Inc()
				}
			}
			return resp, err
		})
	}
}

// Reload records a knowledge reload attempt: err nil when it succeeded, with
// the number of articles now served.
func (m *Metrics) Reload(err error, articles int) {
	m.reloads.Inc()
	m.reloadTimestamp.Set(float64(time.Now().UnixNano()) / 1e9)
	if err != nil {
		m.reloadFailures.Inc()
		m.reloadOK.Set(0)
		return
	}
	m.reloadOK.Set(1)
	m.articles.Set(float64(articles))
}

// SetArticles sets the number of articles served (at start).
func (m *Metrics) SetArticles(n int) { m.articles.Set(float64(n)) }

var (
	_ bot.Stats    = (*Metrics)(nil)
	_ bot.Observer = (*Metrics)(nil)
)
