package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/impbot/impbot/bot/cluster"
	"github.com/impbot/impbot/bot/redistest"
	botsession "github.com/impbot/impbot/bot/session"
)

// replica is one web chat of a cluster: its own router and dialogue (as a
// separate process would have), the dialogue state and the conversations
// in the shared Redis.
type replica struct {
	s     *Server
	ts    *httptest.Server
	calls *countingHandler
	staff *fakeStaff
}

func newReplica(t *testing.T, rds *redistest.Server) *replica {
	t.Helper()
	c, err := cluster.Open(cluster.Options{URL: rds.URL(), Prefix: "webbot", Timeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	h, _ := testRouterStore(t, botsession.NewRedis(c, "", 30*time.Minute))
	r := &replica{calls: &countingHandler{next: h}, staff: &fakeStaff{}}
	r.s, r.ts = newTestServer(t, Config{Handler: r.calls, Cluster: c, Staff: r.staff,
		PerSession: 1000, PerSessionBurst: 1000, PerIP: 1000, PerIPBurst: 1000})
	return r
}

func (r *replica) post(t *testing.T, path string, in In) Out {
	t.Helper()
	o, err := r.try(path, in)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// try is post for other goroutines.
func (r *replica) try(path string, in In) (Out, error) {
	b, _ := json.Marshal(in)
	resp, err := http.Post(r.ts.URL+path, "application/json", bytes.NewReader(b))
	if err != nil {
		return Out{}, err
	}
	defer resp.Body.Close()
	var o Out
	err = json.NewDecoder(resp.Body).Decode(&o)
	return o, err
}

func (r *replica) send(t *testing.T, sid, id, text string) Out {
	t.Helper()
	o := r.post(t, "/chat/send", In{Type: "msg", SID: sid, ID: id, Text: text, Lang: "en"})
	if o.Type != "entries" {
		t.Fatalf("send %q: %+v", text, o)
	}
	return o
}

func lastDialogue(o Out) string {
	for i := len(o.Entries) - 1; i >= 0; i-- {
		if d := o.Entries[i].Dialogue; d != nil {
			return d.Ask
		}
	}
	return ""
}

// TestConversationAcrossReplicas: a visitor's conversation started on one
// replica continues on another (POST transport, as behind a round-robin
// load balancer): the history, the dialogue, the de-duplication of a
// resent message, the pending handoff and the staff answer, and /forget.
func TestConversationAcrossReplicas(t *testing.T) {
	t.Parallel()
	rds := redistest.Start(t)
	a, b := newReplica(t, rds), newReplica(t, rds)

	h := a.post(t, "/chat/hello", In{Type: "hello", Lang: "en"})
	if !validSessionID(h.SID) {
		t.Fatalf("hello: %+v", h)
	}
	sid := h.SID
	o := a.send(t, sid, "m1", "/eligibility")
	ask1 := lastDialogue(o)
	if ask1 == "" {
		t.Fatalf("/eligibility did not start the dialogue: %+v", o)
	}
	opts := o.Entries[len(o.Entries)-1].Dialogue.Options
	if len(opts) == 0 {
		t.Fatalf("first question has no options: %+v", o.Entries)
	}
	// The answer lands on B: the dialogue goes on from A's question.
	o = b.send(t, sid, "m2", opts[0])
	if ask2 := lastDialogue(o); ask2 == "" || ask2 == ask1 {
		t.Fatalf("on B the dialogue did not go on: asked %q after %q: %+v", ask2, ask1, o.Entries)
	}
	if o.Entries[0].Seq != 3 {
		t.Fatalf("B numbered the entries from %d, want 3 (after A's two)", o.Entries[0].Seq)
	}
	// The message A answered, resent to B, is not answered again.
	if o := b.send(t, sid, "m1", "/eligibility"); o.Entries[0].Seq != 1 || b.calls.calls[keyOf(sid)+"|/eligibility"] != 0 {
		t.Fatalf("resend to B: %+v (B's router called %d times)", o, b.calls.calls[keyOf(sid)+"|/eligibility"])
	}
	// A hello on B shows the whole conversation, under the same id.
	hb := b.post(t, "/chat/hello", In{Type: "hello", SID: sid, Lang: "en"})
	if hb.SID != sid || len(hb.Entries) != 4 || hb.Entries[3].Seq != 4 {
		t.Fatalf("hello on B: sid %q, %d entries: %+v", hb.SID, len(hb.Entries), hb.Entries)
	}
	// And back on A, which holds an old copy: it reads the newer one.
	o = a.send(t, sid, "m3", "/cancel")
	if o.Entries[0].Seq != 5 {
		t.Fatalf("A numbered from %d, want 5: %+v", o.Entries[0].Seq, o.Entries)
	}

	// The handoff: asked on A, a second ask on B is "already" (one at a
	// time); the staff answer delivered through B is in A's history.
	ho := a.post(t, "/chat/send", In{Type: "handoff", SID: sid, ID: "h1", Name: "Ana", Email: "ana@example.org", Question: "Can my spouse work?"})
	if len(a.staff.tickets) != 1 || !strings.Contains(ho.Entries[1].Replies[0].Text, "with our team") {
		t.Fatalf("handoff on A: %+v", ho)
	}
	ho = b.post(t, "/chat/send", In{Type: "handoff", SID: sid, ID: "h2", Name: "Ana", Email: "ana@example.org", Question: "And my kids?"})
	if len(b.staff.tickets) != 0 || !strings.Contains(ho.Entries[1].Replies[0].Text, "already") {
		t.Fatalf("second handoff on B: %+v (%d tickets)", ho, len(b.staff.tickets))
	}
	if !b.s.StaffReply(a.staff.tickets[0].Session, "en", "Yes, with an open work permit.") {
		t.Fatal("StaffReply on B: session not found")
	}
	ha := a.post(t, "/chat/hello", In{Type: "hello", SID: sid, Lang: "en"})
	if last := ha.Entries[len(ha.Entries)-1]; last.From != "staff" || !strings.Contains(last.HTML, "open work permit") {
		t.Fatalf("A's history lacks the staff answer: %+v", ha.Entries)
	}

	// /forget on B: A's copy is dropped too.
	b.send(t, sid, "m4", "/forget")
	ha = a.post(t, "/chat/hello", In{Type: "hello", SID: sid, Lang: "en"})
	if len(ha.Entries) != 1 || ha.Entries[0].From != "bot" {
		t.Fatalf("after /forget on B, A shows %+v", ha.Entries)
	}
	// The key in Redis is namespaced, hashed, and expires.
	key := "webbot:web:" + keyOf(sid)
	if ttl, _ := rds.Do("PTTL", key); !strings.HasPrefix(ttl, ":") || strings.HasPrefix(ttl, ":-") {
		t.Fatalf("PTTL %s = %q: want an expiring key", key, ttl)
	}
	if keys, _ := rds.Do("KEYS", "*"+sid+"*"); keys != "*0" {
		t.Fatalf("the widget's secret id appears in a key: %q", keys)
	}
}

// TestWebRedisDown: with Redis stopped, the web chat keeps answering FAQ
// questions, for new visitors and for a visitor this replica never saw
// (under the same id); when Redis returns conversations are shared again.
func TestWebRedisDown(t *testing.T) {
	t.Parallel()
	rds := redistest.Start(t)
	a, b := newReplica(t, rds), newReplica(t, rds)
	sid := b.post(t, "/chat/hello", In{Type: "hello", Lang: "en"}).SID
	b.send(t, sid, "m1", "hello")
	rds.Stop()

	o := a.send(t, sid, "m2", "what is a pgwp")
	if len(o.Entries) != 2 || !strings.Contains(strings.ToLower(o.Entries[1].Replies[0].Text), "post-graduation") {
		t.Fatalf("FAQ on A with redis down: %+v", o)
	}
	fresh := a.post(t, "/chat/hello", In{Type: "hello", Lang: "en"})
	if o := a.send(t, fresh.SID, "f1", "what is a pgwp"); !strings.Contains(strings.ToLower(o.Entries[1].Replies[0].Text), "post-graduation") {
		t.Fatalf("FAQ for a new visitor with redis down: %+v", o)
	}

	rds.Restart() // empty: nothing was persisted
	b.send(t, sid, "m3", "what is a bowp")
	hb := a.post(t, "/chat/hello", In{Type: "hello", SID: sid, Lang: "en"})
	if hb.SID != sid {
		t.Fatalf("after redis returned: new sid %q", hb.SID)
	}
	found := false
	for _, e := range hb.Entries {
		found = found || (e.From == "user" && e.Text == "what is a bowp")
	}
	if !found {
		t.Fatalf("after redis returned, A does not see B's message: %+v", hb.Entries)
	}
}

// TestConcurrentReplicasOneConversation: two tabs of one visitor, on two
// replicas, send at once while hellos read the conversation: every message
// is answered once, and both replicas end with the same history, numbered
// without gaps.
func TestConcurrentReplicasOneConversation(t *testing.T) {
	t.Parallel()
	rds := redistest.Start(t)
	a, b := newReplica(t, rds), newReplica(t, rds)
	sid := a.post(t, "/chat/hello", In{Type: "hello", Lang: "en"}).SID
	// The first message after a hello on A may land on B.
	b.send(t, sid, "first", "hello")
	const each = 15
	var wg sync.WaitGroup
	for ri, r := range []*replica{a, b} {
		wg.Go(func() {
			for i := range each {
				o, err := r.try("/chat/send", In{Type: "msg", SID: sid, ID: fmt.Sprintf("r%d-%d", ri, i), Text: "what is a pgwp", Lang: "en"})
				if err != nil || o.Type != "entries" {
					t.Errorf("replica %d message %d: %+v %v", ri, i, o, err)
					return
				}
				if _, err := r.try("/chat/hello", In{Type: "hello", SID: sid, Lang: "en"}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	var hist [2][]Entry
	for i, r := range []*replica{a, b} {
		hist[i] = r.post(t, "/chat/hello", In{Type: "hello", SID: sid, Lang: "en"}).Entries
		if len(hist[i]) != 4*each+2 {
			t.Fatalf("replica %d shows %d entries, want %d", i, len(hist[i]), 4*each+2)
		}
		for j, e := range hist[i] {
			if e.Seq != int64(j+1) {
				t.Fatalf("replica %d: entry %d has seq %d", i, j, e.Seq)
			}
		}
	}
	for j := range hist[0] {
		if hist[0][j].ID != hist[1][j].ID || hist[0][j].From != hist[1][j].From {
			t.Fatalf("the replicas' histories differ at %d: %+v / %+v", j, hist[0][j], hist[1][j])
		}
	}
	total := 0
	for _, r := range []*replica{a, b} {
		r.calls.mu.Lock()
		total += r.calls.calls[keyOf(sid)+"|what is a pgwp"]
		r.calls.mu.Unlock()
	}
	if total != 2*each {
		t.Fatalf("the router answered %d times, want %d", total, 2*each)
	}
}

// TestLivePushAcrossReplicas: a visitor connected to replica A by
// WebSocket gets, live, a staff answer delivered through replica B, and
// what their other tab, on B, sends.
func TestLivePushAcrossReplicas(t *testing.T) {
	t.Parallel()
	rds := redistest.Start(t)
	a, b := newReplica(t, rds), newReplica(t, rds)
	c, _, err := dial(t, a.ts, "")
	if err != nil {
		t.Fatal(err)
	}
	sid := c.hello("").SID
	c.send(In{Type: "msg", ID: "m1", Text: "what is a pgwp", Lang: "en"})
	c.recvFor("m1")
	select {
	case <-a.s.pushReady:
	case <-time.After(patience):
		t.Fatal("A never subscribed to the other replicas' changes")
	}

	if !b.s.StaffReply(keyOf(sid), "en", "Yes, you can.") {
		t.Fatal("StaffReply on B: session not found")
	}
	o := c.recv()
	if o.Type != "entries" || len(o.Entries) != 1 || o.Entries[0].From != "staff" || !strings.Contains(o.Entries[0].HTML, "Yes, you can.") {
		t.Fatalf("the staff answer through B was not pushed by A: %+v", o)
	}
	b.send(t, sid, "tab2", "what is a bowp")
	o = c.recv()
	if o.Type != "entries" || len(o.Entries) != 2 || o.Entries[0].ID != "tab2" || o.Entries[0].Seq != 4 {
		t.Fatalf("the other tab's message through B was not pushed by A: %+v", o)
	}
}
