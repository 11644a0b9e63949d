package telegram_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/impbot/impbot/bot"
	"github.com/impbot/impbot/bot/telegram"
	"github.com/impbot/impbot/bot/telegram/telegramtest"
	"github.com/impbot/impbot/bot/testmain"
	"github.com/impbot/impbot/index"
	"github.com/impbot/impbot/knowledge"
)

// wait bounds every wait in these tests: a ceiling for a stuck test, never
// a performance requirement; the tests wait on events and go on as soon as
// they happen.
const wait = 2 * time.Minute

// TestMain lets up to 8 tests of this package run at once (unless
// -test.parallel is given; by default only GOMAXPROCS do, 2 on the CI
// machine): each has its own fake Bot API (and redis-server), and most
// wait (on send limits, flood control, long polls, a helper process)
// rather than compute.
func TestMain(m *testing.M) {
	testmain.Parallel(8)
	testmain.Run(m) // no ThreadSanitizer exit sleep under -race (package testmain)
}

// fastTuning keeps retries, throttles and the long poll short for tests.
func fastTuning() telegram.Tuning {
	return telegram.Tuning{
		PollTimeout:     time.Second,
		RequestTimeout:  5 * time.Second,
		ChatLimit:       telegram.Window{N: 5, Per: time.Millisecond},
		GroupLimit:      telegram.Window{N: 5, Per: time.Millisecond},
		GlobalLimit:     telegram.Window{N: 100, Per: time.Millisecond},
		MinBackoff:      5 * time.Millisecond,
		MaxBackoff:      40 * time.Millisecond,
		RetryAfterUnit:  20 * time.Millisecond,
		ShutdownTimeout: 10 * time.Second,
	}
}

type countStats struct {
	mu       sync.Mutex
	in, out  int
	apiError map[string]int
}

func (s *countStats) MessageIn(p string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p == telegram.Platform {
		s.in++
	}
}

func (s *countStats) MessageOut(p string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p == telegram.Platform {
		s.out++
	}
}

func (s *countStats) APIError(p, kind string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.apiError == nil {
		s.apiError = map[string]int{}
	}
	s.apiError[kind]++
}

func (s *countStats) Reconnect(string) {}

func (s *countStats) get() (in, out int, errs map[string]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	errs = map[string]int{}
	for k, v := range s.apiError {
		errs[k] = v
	}
	return s.in, s.out, errs
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

type harness struct {
	t      *testing.T
	srv    *telegramtest.Server
	a      *telegram.Adapter
	stats  *countStats
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

// start runs an adapter against srv until the test ends.
func start(t *testing.T, srv *telegramtest.Server, h bot.Handler, mutate func(*telegram.Config)) *harness {
	t.Helper()
	hs := &harness{t: t, srv: srv, stats: &countStats{}, logs: &syncBuffer{}, done: make(chan error, 1)}
	cfg := telegram.Config{
		Token:   srv.Token,
		APIURL:  srv.URL,
		Handler: h,
		Stats:   hs.stats,
		Log:     slog.New(slog.NewTextHandler(hs.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Tuning:  fastTuning(),
	}
	if mutate != nil {
		mutate(&cfg)
	}
	a, err := telegram.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs.a = a
	ctx, cancel := context.WithCancel(context.Background())
	hs.cancel = cancel
	go func() { hs.done <- a.Run(ctx) }()
	t.Cleanup(func() {
		if err := hs.stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
		if t.Failed() {
			t.Logf("adapter logs:\n%s", hs.logs.String())
		}
	})
	return hs
}

// stop cancels Run and waits for it to return.
func (h *harness) stop() error {
	h.once.Do(func() {
		h.cancel()
		select {
		case h.err = <-h.done:
		case <-time.After(20 * time.Second):
			h.err = fmt.Errorf("Run did not return within 20s of shutdown")
		}
	})
	return h.err
}

// waitReady waits until the adapter reports ready.
func (h *harness) waitReady() {
	h.t.Helper()
	deadline := time.Now().Add(wait)
	for h.a.Ready() != nil {
		if time.Now().After(deadline) {
			h.t.Fatalf("not ready: %v", h.a.Ready())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// echo answers "echo: <text>" or "action: <action>", with the buttons the
// text asks for ("buttons:N").
func echo() bot.Handler {
	return bot.HandlerFunc(func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
		if req.Action != "" {
			return &bot.Response{Replies: []bot.Reply{{Text: "action: " + req.Action}}}, nil
		}
		rep := bot.Reply{Text: "echo: " + req.Text}
		if strings.HasPrefix(req.Text, "buttons:") {
			rep.Buttons = []bot.Button{
				{Label: "Short", Action: "a:short"},
				{Label: "Long", Action: "a:" + strings.Repeat("very-long-article-id-", 10)},
				{Label: "👍", Action: bot.ActFeedback + "+:x"},
				{Label: "👎", Action: bot.ActFeedback + "-:x"},
			}
		}
		return &bot.Response{Replies: []bot.Reply{rep}}, nil
	})
}

var (
	ixOnce sync.Once
	testIx *index.Index
	ixErr  error
)

// newRouter builds the real router on the shipped knowledge. The index is
// built once for the package and shared (it is read-only).
func newRouter(t *testing.T, opt bot.Options) *bot.Router {
	t.Helper()
	ixOnce.Do(func() {
		var b *knowledge.Base
		if b, ixErr = knowledge.LoadShipped(); ixErr == nil {
			testIx, ixErr = index.Build(b)
		}
	})
	if ixErr != nil {
		t.Fatal(ixErr)
	}
	return bot.NewRouter(testIx, opt)
}

func user(id int64) telegramtest.User { return telegramtest.User{ID: id, Name: "U", Lang: "en"} }

// eventually polls cond until it holds (for state outside the fake, such
// as counters updated after the fake answered).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// settle waits until the adapter has processed the answer to every message
// the fake recorded (the fake records a message before the adapter reads
// Telegram's answer, e.g. the new message's id).
func (h *harness) settle() {
	h.t.Helper()
	eventually(h.t, "the adapter to see every sent message", func() bool {
		_, out, _ := h.stats.get()
		return out >= len(h.srv.Sent())
	})
}
