package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/impbot/impbot/bot"
	"github.com/impbot/impbot/bot/dialogue"
	botsession "github.com/impbot/impbot/bot/session"
	"github.com/impbot/impbot/index"
	"github.com/impbot/impbot/knowledge"
)

// patience bounds the waits of these tests: a ceiling for a test that is
// stuck, never a performance requirement (they go on as soon as what they
// wait for happens, however loaded the machine).
const patience = 2 * time.Minute

var (
	ixOnce  sync.Once
	ixBase  *knowledge.Base
	ixIdx   *index.Index
	ixRules *dialogue.Rules
	ixErr   error
)

type feedbackCounter struct {
	mu  sync.Mutex
	qs  []bot.QuestionEvent
	fbs []bot.FeedbackEvent
}

func (f *feedbackCounter) Question(ev bot.QuestionEvent) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.qs = append(f.qs, ev)
}

func (f *feedbackCounter) Feedback(ev bot.FeedbackEvent) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fbs = append(f.fbs, ev)
}

// testRouter is the real router on the shipped knowledge, with the
// eligibility dialogue (memory sessions) and an observer.
func testRouter(t testing.TB) (bot.Handler, *feedbackCounter) {
	t.Helper()
	return testRouterStore(t, botsession.NewMemory(30*time.Minute))
}

// testRouterStore is testRouter with the dialogue's state in store. The
// index is built once per test binary: the first test that asks for a
// router pays for loading the knowledge, opening its index from the cache
// and parsing the eligibility rules (read-only, shared by the routers), and
// its time includes it.
func testRouterStore(t testing.TB, store botsession.Store) (bot.Handler, *feedbackCounter) {
	t.Helper()
	ixOnce.Do(func() {
		ixBase, ixErr = knowledge.LoadShipped()
		if ixErr == nil {
			ixIdx, ixErr = index.Build(ixBase)
		}
		if ixErr == nil {
			var probs knowledge.Problems
			if ixRules, probs = dialogue.Parse("eligibility.yaml", ixBase.Files[dialogue.File], ixBase); len(probs) > 0 {
				ixErr = fmt.Errorf("eligibility rules: %v", probs)
			}
		}
	})
	if ixErr != nil {
		t.Fatal(ixErr)
	}
	obs := &feedbackCounter{}
	r := bot.NewRouter(ixIdx, bot.Options{OrgName: "Maple & Co.", Contact: "help@maple.example", Observer: obs})
	eng, err := dialogue.New(ixRules, dialogue.Options{Store: store, Notice: r.Notice})
	if err != nil {
		t.Fatal(err)
	}
	r.SetDialogue(eng)
	r.AddForgetter(store)
	return bot.Chain(r, bot.Recover()), obs
}

// countingHandler counts the requests that reach the router, per text.
type countingHandler struct {
	mu    sync.Mutex
	calls map[string]int
	next  bot.Handler
}

func (c *countingHandler) Handle(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	c.mu.Lock()
	if c.calls == nil {
		c.calls = map[string]int{}
	}
	c.calls[req.ChatID+"|"+req.Text+req.Action]++
	c.mu.Unlock()
	return c.next.Handle(ctx, req)
}

// echoHandler answers "echo: TEXT" at once.
var echoHandler = bot.HandlerFunc(func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	return &bot.Response{Replies: []bot.Reply{{Text: "echo: " + req.Text}}}, nil
})

func newTestServer(t testing.TB, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	s.markReady()
	t.Cleanup(func() { s.Close(); ts.Close() })
	return s, ts
}

type wsClient struct {
	t *testing.T
	c *websocket.Conn
}

func dial(t *testing.T, ts *httptest.Server, origin string) (*wsClient, *http.Response, error) {
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	c, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/chat/ws", h)
	if err != nil {
		return nil, resp, err
	}
	t.Cleanup(func() { c.Close() })
	return &wsClient{t: t, c: c}, resp, nil
}

func (w *wsClient) send(in In) {
	w.t.Helper()
	if err := w.c.WriteJSON(in); err != nil {
		w.t.Fatal(err)
	}
}

func (w *wsClient) recv() Out {
	w.t.Helper()
	var o Out
	_ = w.c.SetReadDeadline(time.Now().Add(patience))
	if err := w.c.ReadJSON(&o); err != nil {
		w.t.Fatal(err)
	}
	return o
}

// recvFor reads until the answer to client message id.
func (w *wsClient) recvFor(id string) Out {
	w.t.Helper()
	for {
		o := w.recv()
		if o.ID == id {
			return o
		}
	}
}

func (w *wsClient) hello(sid string) Out {
	w.t.Helper()
	w.send(In{Type: "hello", SID: sid, Lang: "en"})
	for {
		if o := w.recv(); o.Type == "hello" {
			return o
		}
	}
}
