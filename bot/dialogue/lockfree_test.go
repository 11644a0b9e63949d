package dialogue

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/impbot/impbot/bot"
	"github.com/impbot/impbot/bot/session"
)

// countingStore is a Memory store that counts the calls that lock it.
type countingStore struct {
	*session.Memory
	gets, puts, dels atomic.Int64
}

func (c *countingStore) Get(ctx context.Context, k string) ([]byte, bool, error) {
	c.gets.Add(1)
	return c.Memory.Get(ctx, k)
}

func (c *countingStore) Put(ctx context.Context, k string, v []byte) error {
	c.puts.Add(1)
	return c.Memory.Put(ctx, k, v)
}

func (c *countingStore) Delete(ctx context.Context, k string) error {
	c.dels.Add(1)
	return c.Memory.Delete(ctx, k)
}

func (c *countingStore) calls() int64 { return c.gets.Load() + c.puts.Load() + c.dels.Load() }

// hiddenProbe is a store that cannot say a session is empty (as Redis and
// Bolt): every message goes through the lock and the store.
type hiddenProbe struct{ session.Store }

func userReq(user, text, action string) *bot.Request {
	return &bot.Request{Platform: "test", ChatID: user, UserID: user, Text: text, Action: action}
}

// within runs f and fails the test if it has not returned after 2 min
// (f waiting on a lock the test holds; a generous ceiling, as the tests
// run in parallel on a loaded machine).
func within(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("%s: still waiting after 2 min (a lock was taken)", what)
	}
}

// TestNoDialogueTakesNoLock: a message from a user with no dialogue is
// answered while the test holds that user's session lock, and never calls
// the store (whose Get, Put and Delete are what take the store's locks).
func TestNoDialogueTakesNoLock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cs := &countingStore{Memory: session.NewMemory(0)}
	e := newEngine(t, cs)
	req := userReq("a", "what is a PGWP?", "")
	st := e.stripe(req.SessionKey())
	st.mu.Lock()
	within(t, "no-dialogue message", func() {
		for _, r := range []*bot.Request{req, userReq("a", "", bot.ArticleAction("pgwp")), userReq("a", "yes", ""), userReq("a", "/back", "")} {
			resp, ok, err := e.Handle(ctx, r, nil)
			if ok || resp != nil || err != nil {
				t.Errorf("%q/%q: ok=%v resp=%v err=%v", r.Text, r.Action, ok, resp, err)
			}
			if e.Active(ctx, r) {
				t.Errorf("%q: Active with no dialogue", r.Text)
			}
		}
	})
	st.mu.Unlock()
	if n := cs.calls(); n != 0 {
		t.Fatalf("the store was called %d times for messages with no dialogue", n)
	}

	// A request to start is the engine's: it locks and writes.
	resp, ok, err := e.Handle(ctx, userReq("a", "check my eligibility", ""), nil)
	if err != nil || !ok {
		t.Fatalf("start request: ok=%v err=%v", ok, err)
	}
	asks(t, resp, "asker")
	if cs.puts.Load() == 0 {
		t.Fatal("a started dialogue wrote nothing")
	}
	// Now user a has a dialogue: the next message needs the lock.
	st.mu.Lock()
	got := make(chan bool, 1)
	go func() {
		_, ok, _ := e.Handle(ctx, userReq("a", "", "d:asker=worker"), nil)
		got <- ok
	}()
	select {
	case <-got:
		t.Fatal("a dialogue answer went through without the session lock")
	case <-time.After(50 * time.Millisecond):
	}
	st.mu.Unlock()
	if !<-got {
		t.Fatal("the dialogue answer was not taken")
	}

	// Without a probe (Redis, Bolt) every message locks and reads, as before.
	cs2 := &countingStore{Memory: session.NewMemory(0)}
	e2 := newEngine(t, hiddenProbe{cs2})
	if _, ok, _ := e2.Handle(ctx, userReq("b", "what is a PGWP?", ""), nil); ok {
		t.Fatal("no-dialogue message taken")
	}
	if cs2.gets.Load() == 0 {
		t.Fatal("without a probe the store must be read")
	}
}

// TestMessageDuringStartWaitsForIt: a message that arrives while a Start
// holds the session's lock, before the state is written, waits for the
// Start and is read as the dialogue's answer, exactly as with the lock
// alone (the filter still says "no session" when it arrives).
func TestMessageDuringStartWaitsForIt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEngine(t, session.NewMemory(0))
	key := userReq("u", "", "").SessionKey()
	held := e.lock(key) // a Start under way
	got := make(chan bool, 1)
	go func() {
		_, ok, err := e.Handle(ctx, userReq("u", "", "d:asker=worker"), nil)
		if err != nil {
			t.Error(err)
		}
		got <- ok
	}()
	// Wait until the message waits on the lock (busy 2: the Start and it).
	for e.stripe(key).busy.Load() != 2 {
		select {
		case ok := <-got:
			t.Fatalf("the message did not wait for the Start under way (ok=%v)", ok)
		case <-time.After(time.Millisecond):
		}
	}
	if _, err := e.begin(ctx, key, "en", true, "intro"); err != nil {
		t.Fatal(err)
	}
	held.unlock()
	if !<-got {
		t.Fatal("the message after the Start missed the dialogue")
	}
	if e.stripe(key).busy.Load() != 0 {
		t.Fatal("busy not back to zero")
	}
}

// TestStartThenNextMessageUnderLoad: many users start a dialogue and send
// the next message at once from another goroutine, while others with no
// dialogue send messages on the same locks; no next message misses its
// dialogue, no other message is taken by one. Meant for -race.
func TestStartThenNextMessageUnderLoad(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEngine(t, session.NewMemory(0))
	const users = 400
	next := make(chan string, users)
	var starters, wg sync.WaitGroup
	for g := range 4 {
		starters.Go(func() { // starters
			for i := g; i < users; i += 4 {
				u := fmt.Sprint("starter", i)
				if _, err := e.Start(ctx, userReq(u, "/eligibility", "")); err != nil {
					t.Error(err)
					return
				}
				next <- u
			}
		})
	}
	var answered atomic.Int64
	for range 4 {
		wg.Go(func() { // the starters' next messages, from other goroutines
			for u := range next {
				resp, ok, err := e.Handle(ctx, userReq(u, "", "d:asker=worker"), nil)
				if err != nil || !ok || resp.Dialogue == nil || resp.Dialogue.Ask != "citizenship" {
					t.Errorf("%s: next message missed the dialogue: ok=%v err=%v", u, ok, err)
					return
				}
				answered.Add(1)
			}
		})
	}
	var others sync.WaitGroup
	for g := range 4 {
		others.Go(func() { // users with no dialogue, on the same stripes
			for i := range 300 {
				u := fmt.Sprint("other", g, "-", i)
				if _, ok, err := e.Handle(ctx, userReq(u, "what is a PGWP?", ""), nil); ok || err != nil {
					t.Errorf("%s: ok=%v err=%v", u, ok, err)
					return
				}
			}
		})
	}
	starters.Wait()
	close(next)
	wg.Wait()
	others.Wait()
	if !t.Failed() && answered.Load() != users {
		t.Fatalf("%d of %d next messages answered", answered.Load(), users)
	}
}

// BenchmarkHandleNoDialogue: messages from many users with no dialogue,
// 8 goroutines per core, through the engine (Handle, then Active as the
// router does). "probe" is the Memory store (lock-free check);
// "locked" hides the probe, as a Redis or Bolt store would: every message
// takes the session lock and reads the store. "text" messages also run
// the start-request match (a few µs of regexp), "button" presses
// (an article button) only the session check.
func BenchmarkHandleNoDialogue(b *testing.B) {
	for _, bc := range []struct {
		name, text, action string
		store              func() session.Store
	}{
		{"probe/text", "how long is a PGWP valid?", "", func() session.Store { return session.NewMemory(0) }},
		{"locked/text", "how long is a PGWP valid?", "", func() session.Store { return hiddenProbe{session.NewMemory(0)} }},
		{"probe/button", "", "a:pgwp", func() session.Store { return session.NewMemory(0) }},
		{"locked/button", "", "a:pgwp", func() session.Store { return hiddenProbe{session.NewMemory(0)} }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			e := newEngine(b, bc.store())
			for i := range 1000 { // some users are in a dialogue
				e.Start(ctx, userReq(fmt.Sprint("d", i), "/eligibility", ""))
			}
			reqs := make([]*bot.Request, 4096)
			for i := range reqs {
				reqs[i] = userReq(fmt.Sprint("u", i), bc.text, bc.action)
			}
			var seq atomic.Int64
			b.SetParallelism(8)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := int(seq.Add(1)) * 997
				for pb.Next() {
					i++
					r := reqs[i%len(reqs)]
					if _, ok, _ := e.Handle(ctx, r, nil); ok || e.Active(ctx, r) {
						b.Error("taken")
						return
					}
				}
			})
		})
	}
}
