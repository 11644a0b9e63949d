package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestWidgetUnder30KBCompressed(t *testing.T) {
	t.Parallel()
	n := CompressedSize()
	t.Logf("widget.js + widget.css gzip: %d bytes", n)
	if n >= 30*1024 {
		t.Fatalf("widget is %d bytes compressed, want < 30 KB", n)
	}
	if n < 2000 {
		t.Fatalf("widget is only %d bytes compressed: files missing?", n)
	}
}

func TestConfigChecks(t *testing.T) {
	t.Parallel()
	for _, c := range []Config{
		{Handler: echoHandler, ThemeColor: "red; background:url(x)"},
		{Handler: echoHandler, AllowedOrigins: []string{"example.com"}},
		{Handler: echoHandler, AllowedOrigins: []string{"https://example.com/page"}},
		{},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) accepted a bad config", c)
		}
	}
}

func TestOriginChecks(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t, Config{Handler: echoHandler, AllowedOrigins: []string{"https://consultancy.example"}})
	if _, _, err := dial(t, ts, "https://consultancy.example"); err != nil {
		t.Fatalf("allowed origin refused: %v", err)
	}
	if _, _, err := dial(t, ts, ts.URL); err != nil {
		t.Fatalf("own origin refused: %v", err)
	}
	_, resp, err := dial(t, ts, "https://evil.example")
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("other origin: err=%v resp=%v, want 403", err, resp)
	}
	post := func(origin string) *http.Response {
		req, _ := http.NewRequest("POST", ts.URL+"/chat/hello", strings.NewReader(`{"type":"hello"}`))
		req.Header.Set("Origin", origin)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := post("https://consultancy.example"); r.StatusCode != 200 || r.Header.Get("Access-Control-Allow-Origin") != "https://consultancy.example" {
		t.Errorf("allowed POST: %d, ACAO %q", r.StatusCode, r.Header.Get("Access-Control-Allow-Origin"))
	}
	if r := post("https://evil.example"); r.StatusCode != http.StatusForbidden || r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("other POST: %d, ACAO %q", r.StatusCode, r.Header.Get("Access-Control-Allow-Origin"))
	}
	req, _ := http.NewRequest("OPTIONS", ts.URL+"/chat/send", nil)
	req.Header.Set("Origin", "https://consultancy.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || !strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Content-Type") {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestPagesHeaders(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t, Config{Handler: echoHandler})
	for _, c := range []struct{ path, ctype, want string }{
		{"/", "text/html", "Need help?"},
		{"/?lang=fr", "text/html", "Besoin d'aide ?"},
		{"/widget.js", "text/javascript", "__impbotWidget"},
		{"/widget.css", "text/css", ".impbot"},
	} {
		resp, err := http.Get(ts.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		resp.Body.Close()
		h := resp.Header
		if resp.StatusCode != 200 || !strings.HasPrefix(h.Get("Content-Type"), c.ctype) || !strings.Contains(b.String(), c.want) {
			t.Errorf("%s: %d %s, body has %q: %v", c.path, resp.StatusCode, h.Get("Content-Type"), c.want, strings.Contains(b.String(), c.want))
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: security headers missing: %v", c.path, h)
		}
		if c.ctype == "text/html" {
			csp := h.Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'none'", "script-src 'self'", "frame-ancestors 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("%s: CSP %q lacks %q", c.path, csp, want)
				}
			}
			if strings.Contains(csp, "unsafe-inline") || strings.Contains(b.String(), "<script>") || strings.Contains(b.String(), "style=") {
				t.Errorf("%s: inline script or style", c.path)
			}
		}
	}
}

func TestRepliesAreJSONLObjectsWithHTML(t *testing.T) {
	t.Parallel()
	h, _ := testRouter(t)
	_, ts := newTestServer(t, Config{Handler: h})
	c, _, err := dial(t, ts, "")
	if err != nil {
		t.Fatal(err)
	}
	c.hello("")
	c.send(In{Type: "msg", ID: "m1", Text: "how much is the employer compliance fee"})
	o := c.recvFor("m1")
	if len(o.Entries) != 2 || o.Entries[0].From != "user" || o.Entries[1].From != "bot" {
		t.Fatalf("entries %+v", o.Entries)
	}
	r := o.Entries[1].Replies[0]
	if r.Topic != "employer-compliance-fee" || r.Score <= 0 || r.Suggestions == nil || len(r.Buttons) == 0 {
		t.Fatalf("reply %+v", r.Reply)
	}
	if !strings.Contains(r.HTML, `<a href="https://`) || !strings.Contains(r.HTML, `rel="noopener noreferrer"`) {
		t.Errorf("html lacks sources: %s", r.HTML)
	}
	// The JSON of a reply has the keys of `chat --jsonl` plus html.
	raw, _ := json.Marshal(r)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	for _, k := range []string{"text", "topic", "score", "suggestions", "buttons", "html"} {
		if _, ok := m[k]; !ok {
			t.Errorf("reply JSON lacks %q: %s", k, raw)
		}
	}
}

// TestResendIsAnsweredOnce: a message sent again (after a reconnect, or
// from a second tab) reaches the router once and gets the same entries.
func TestResendIsAnsweredOnce(t *testing.T) {
	t.Parallel()
	ch := &countingHandler{next: echoHandler}
	_, ts := newTestServer(t, Config{Handler: ch})
	a, _, err := dial(t, ts, "")
	if err != nil {
		t.Fatal(err)
	}
	sid := a.hello("").SID
	a.send(In{Type: "msg", ID: "x1", Text: "one"})
	first := a.recvFor("x1")
	b, _, _ := dial(t, ts, "")
	b.hello(sid)
	b.send(In{Type: "msg", ID: "x1", Text: "one"})
	again := b.recvFor("x1")
	if fmt.Sprint(first.Entries) != fmt.Sprint(again.Entries) {
		t.Errorf("resend got different entries:\n%+v\n%+v", first.Entries, again.Entries)
	}
	if n := ch.calls[keyOf(sid)+"|one"]; n != 1 {
		t.Errorf("router called %d times for one message", n)
	}
	if h := b.hello(sid); len(h.Entries) != 2 {
		t.Errorf("history has %d entries, want 2 (no duplicate)", len(h.Entries))
	}
}

// TestDroppedConnectionResumes: the connection drops mid-conversation,
// with messages sent but unanswered; the widget reconnects with its session
// and resends its queue; every message is answered exactly once, in order.
func TestDroppedConnectionResumes(t *testing.T) {
	t.Parallel()
	ch := &countingHandler{next: echoHandler}
	_, ts := newTestServer(t, Config{Handler: ch})
	a, _, err := dial(t, ts, "")
	if err != nil {
		t.Fatal(err)
	}
	sid := a.hello("").SID
	a.send(In{Type: "msg", ID: "q1", Text: "one"})
	a.recvFor("q1")
	// q2 and q3 are sent, then the connection dies before any answer is read.
	a.send(In{Type: "msg", ID: "q2", Text: "two"})
	a.send(In{Type: "msg", ID: "q3", Text: "three"})
	a.c.UnderlyingConn().Close()

	b, _, err := dial(t, ts, "")
	if err != nil {
		t.Fatal(err)
	}
	h := b.hello(sid)
	if h.SID != sid {
		t.Fatalf("session not resumed: %q != %q", h.SID, sid)
	}
	// The widget resends everything still queued: q2, q3 (whatever the
	// server had already answered) and a new q4.
	for _, m := range []In{{ID: "q2", Text: "two"}, {ID: "q3", Text: "three"}, {ID: "q4", Text: "four"}} {
		m.Type = "msg"
		b.send(m)
		b.recvFor(m.ID)
	}
	final := b.hello(sid)
	var got []string
	for _, e := range final.Entries {
		if e.From == "user" {
			got = append(got, e.Text)
		}
	}
	if strings.Join(got, ",") != "one,two,three,four" {
		t.Errorf("conversation after the drop: %v, want one,two,three,four", got)
	}
	for _, txt := range []string{"one", "two", "three", "four"} {
		if n := ch.calls[keyOf(sid)+"|"+txt]; n != 1 {
			t.Errorf("%q answered %d times", txt, n)
		}
	}
}

func TestRateLimitIsFriendlyAndLosesNothing(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t, Config{Handler: echoHandler, PerSession: 0.5, PerSessionBurst: 2})
	c, _, _ := dial(t, ts, "")
	c.hello("")
	c.send(In{Type: "msg", ID: "r1", Text: "a"})
	c.send(In{Type: "msg", ID: "r2", Text: "b"})
	c.send(In{Type: "msg", ID: "r3", Text: "c"})
	if o := c.recvFor("r1"); o.Type != "entries" {
		t.Fatalf("r1: %+v", o)
	}
	c.recvFor("r2")
	o := c.recvFor("r3")
	if o.Type != "slow" || o.RetryMS <= 0 || !strings.Contains(o.Text, "wait") {
		t.Fatalf("third message in a burst of 2: %+v, want a friendly slow-down", o)
	}
	// The widget keeps r3 and retries; once the limiter refills it is answered.
	deadline := time.Now().Add(patience)
	for {
		c.send(In{Type: "msg", ID: "r3", Text: "c"})
		if o := c.recvFor("r3"); o.Type == "entries" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("r3 never answered")
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func TestPerIPLimit(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t, Config{Handler: echoHandler, PerIP: 0.01, PerIPBurst: 3})
	slow := 0
	for i := range 3 {
		c, resp, err := dial(t, ts, "")
		if err != nil {
			if resp != nil && resp.StatusCode == http.StatusTooManyRequests {
				slow++
				continue
			}
			t.Fatal(err)
		}
		c.hello("")
		c.send(In{Type: "msg", ID: fmt.Sprint("p", i), Text: "x"})
		if c.recvFor(fmt.Sprint("p", i)).Type == "slow" {
			slow++
		}
	}
	if slow == 0 {
		t.Fatal("6 actions from one address with a burst of 3: none slowed down")
	}
}

func TestMessageSizeLimit(t *testing.T) {
	t.Parallel()
	ch := &countingHandler{next: echoHandler}
	_, ts := newTestServer(t, Config{Handler: ch})
	c, _, _ := dial(t, ts, "")
	c.hello("")
	c.send(In{Type: "msg", ID: "big", Text: strings.Repeat("é", MaxText+1)})
	o := c.recvFor("big")
	if len(o.Entries) != 2 || !strings.Contains(o.Entries[1].Replies[0].Text, "too long") {
		t.Fatalf("long message: %+v", o)
	}
	if len(ch.calls) != 0 {
		t.Errorf("a too-long message reached the router")
	}
	// A frame beyond the transport limit closes the connection instead of
	// being buffered.
	_ = c.c.WriteMessage(1, bytes.Repeat([]byte("x"), maxFrame+10))
	_ = c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, _, err := c.c.ReadMessage(); err == nil {
		t.Error("oversized frame accepted")
	}
}

type fakeStaff struct {
	mu      sync.Mutex
	tickets []Ticket
}

func (f *fakeStaff) Forward(_ context.Context, t Ticket) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tickets = append(f.tickets, t)
	return nil
}

func TestHandoffAndStaffReply(t *testing.T) {
	t.Parallel()
	staff := &fakeStaff{}
	s, ts := newTestServer(t, Config{Handler: echoHandler, Staff: staff})
	c, _, _ := dial(t, ts, "")
	h := c.hello("")
	if !h.Staff {
		t.Fatal("hello does not offer the handoff form")
	}
	c.send(In{Type: "handoff", ID: "h0", Name: "Ana", Email: "not-an-email", Question: "Can I work?"})
	if o := c.recvFor("h0"); !strings.Contains(o.Entries[1].Replies[0].Text, "valid e-mail") {
		t.Fatalf("bad e-mail accepted: %+v", o)
	}
	c.send(In{Type: "handoff", ID: "h1", Name: "Ana", Email: "ana@example.org", Question: "Can my <b>spouse</b> work?", Lang: "fr"})
	if o := c.recvFor("h1"); !strings.Contains(o.Entries[1].Replies[0].Text, "notre équipe") {
		t.Fatalf("handoff reply: %+v", o)
	}
	if len(staff.tickets) != 1 || staff.tickets[0].Email != "ana@example.org" || staff.tickets[0].Session != keyOf(h.SID) {
		t.Fatalf("tickets %+v", staff.tickets)
	}
	c.send(In{Type: "handoff", ID: "h2", Name: "Ana", Email: "ana@example.org", Question: "And my kids?"})
	if o := c.recvFor("h2"); !strings.Contains(o.Entries[1].Replies[0].Text, "already") || len(staff.tickets) != 1 {
		t.Fatalf("second question while one waits: %+v (%d tickets)", o, len(staff.tickets))
	}
	// Live: the connected widget gets the staff answer pushed.
	if !s.StaffReply(keyOf(h.SID), "fr", "Oui, avec un <script>x</script> permis ouvert.") {
		t.Fatal("StaffReply: session not found")
	}
	o := c.recv()
	if o.Type != "entries" || o.Entries[0].From != "staff" || !strings.Contains(o.Entries[0].HTML, "permis ouvert") || strings.Contains(o.Entries[0].HTML, "<script") {
		t.Fatalf("pushed staff answer: %+v", o)
	}
	// Later: a visitor coming back sees it in the history.
	c2, _, _ := dial(t, ts, "")
	back := c2.hello(h.SID)
	last := back.Entries[len(back.Entries)-1]
	if last.From != "staff" || !strings.Contains(last.HTML, "Réponse de notre équipe") {
		t.Fatalf("history on return: %+v", back.Entries)
	}
	if s.StaffReply("unknownsessionid12345678", "en", "x") {
		t.Error("StaffReply to an unknown session reported delivered")
	}
}

func TestHandoffWithoutStaffGivesContact(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t, Config{Handler: echoHandler, Contact: "help@maple.example"})
	c, _, _ := dial(t, ts, "")
	if c.hello("").Staff {
		t.Fatal("no staff configured, yet the form is offered")
	}
	c.send(In{Type: "handoff", ID: "h1", Name: "A", Email: "a@b.example", Question: "q"})
	if o := c.recvFor("h1"); !strings.Contains(o.Entries[1].Replies[0].Text, "help@maple.example") {
		t.Fatalf("%+v", o)
	}
}

func TestForgetDeletesConversation(t *testing.T) {
	t.Parallel()
	h, _ := testRouter(t)
	_, ts := newTestServer(t, Config{Handler: h})
	c, _, _ := dial(t, ts, "")
	sid := c.hello("").SID
	c.send(In{Type: "msg", ID: "f1", Text: "my secret question about pgwp"})
	c.recvFor("f1")
	c.send(In{Type: "msg", ID: "f2", Text: "/forget"})
	o := c.recvFor("f2")
	if !o.Reset || len(o.Entries) != 1 || !strings.Contains(o.Entries[0].Replies[0].Text, "deleted") {
		t.Fatalf("/forget: %+v", o)
	}
	again := c.hello(sid)
	for _, e := range again.Entries {
		if strings.Contains(e.Text, "secret") {
			t.Fatalf("history still has the question after /forget: %+v", again.Entries)
		}
	}
	// A resend of the forgotten message id must not bring its answer back.
	c.send(In{Type: "msg", ID: "f1", Text: "x"})
	if o := c.recvFor("f1"); strings.Contains(fmt.Sprint(o.Entries), "secret") {
		t.Fatal("forgotten entries returned for an old id")
	}
}

func TestPostFallback(t *testing.T) {
	t.Parallel()
	ch := &countingHandler{next: echoHandler}
	_, ts := newTestServer(t, Config{Handler: ch})
	post := func(path string, in In) Out {
		b, _ := json.Marshal(in)
		resp, err := http.Post(ts.URL+path, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var o Out
		if err := json.NewDecoder(resp.Body).Decode(&o); err != nil {
			t.Fatal(err)
		}
		return o
	}
	h := post("/chat/hello", In{Type: "hello"})
	if !validSessionID(h.SID) {
		t.Fatalf("hello: %+v", h)
	}
	o := post("/chat/send", In{Type: "msg", SID: h.SID, ID: "p1", Text: "hi there"})
	if o.Type != "entries" || o.Entries[1].Replies[0].Text != "echo: hi there" {
		t.Fatalf("send: %+v", o)
	}
	post("/chat/send", In{Type: "msg", SID: h.SID, ID: "p1", Text: "hi there"})
	if n := ch.calls[keyOf(h.SID)+"|hi there"]; n != 1 {
		t.Errorf("POST resend answered %d times", n)
	}
	if o := post("/chat/send", In{Type: "msg", SID: "nope", ID: "p2", Text: "x"}); o.Type != "error" {
		t.Errorf("unknown session: %+v", o)
	}
	resp, _ := http.Post(ts.URL+"/chat/send", "application/json", strings.NewReader("{not json"))
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad JSON: %d", resp.StatusCode)
	}
	resp.Body.Close()
}

// TestConcurrentSessions: 500 widgets on loopback (125 under -race; CI also
// runs it whole without -race), 5 messages each, all at once: every message
// answered exactly once, in order; latency reported.
func TestConcurrentSessions(t *testing.T) {
	t.Parallel()
	sessions, perSession := 500, 5
	if raceBuild {
		sessions = 125
	}
	ch := &countingHandler{next: echoHandler}
	_, ts := newTestServer(t, Config{Handler: ch, PerIP: 1e6, PerIPBurst: 1e6, PerSession: 1e6, PerSessionBurst: 1e6})
	var (
		mu        sync.Mutex
		latencies []time.Duration
		lost, dup int
		wg        sync.WaitGroup
		errs      = make(chan error, sessions)
	)
	for i := range sessions {
		wg.Go(func() {
			c, _, err := dial(t, ts, "")
			if err != nil {
				errs <- err
				return
			}
			c.send(In{Type: "hello"})
			var h Out
			if err := c.c.ReadJSON(&h); err != nil {
				errs <- err
				return
			}
			got := map[string]int{}
			var mine []time.Duration
			for j := range perSession {
				id := fmt.Sprintf("s%d-%d", i, j)
				start := time.Now()
				if err := c.c.WriteJSON(In{Type: "msg", SID: h.SID, ID: id, Text: id}); err != nil {
					errs <- err
					return
				}
				var o Out
				_ = c.c.SetReadDeadline(time.Now().Add(60 * time.Second))
				if err := c.c.ReadJSON(&o); err != nil {
					errs <- err
					return
				}
				mine = append(mine, time.Since(start))
				for _, e := range o.Entries {
					if e.From == "bot" {
						got[e.ID]++
					}
				}
			}
			c.send(In{Type: "hello", SID: h.SID})
			var fin Out
			if err := c.c.ReadJSON(&fin); err != nil {
				errs <- err
				return
			}
			hist := map[string]int{}
			for _, e := range fin.Entries {
				if e.From == "bot" {
					hist[e.ID]++
				}
			}
			mu.Lock()
			defer mu.Unlock()
			latencies = append(latencies, mine...)
			for j := range perSession {
				id := fmt.Sprintf("s%d-%d", i, j)
				switch {
				case got[id] == 0 || hist[id] == 0:
					lost++
				case got[id] > 1 || hist[id] > 1:
					dup++
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if lost != 0 || dup != 0 {
		t.Fatalf("%d sessions × %d messages: %d lost, %d duplicated", sessions, perSession, lost, dup)
	}
	calls := 0
	for _, n := range ch.calls {
		if n != 1 {
			t.Errorf("a message reached the router %d times", n)
		}
		calls += n
	}
	if calls != sessions*perSession {
		t.Fatalf("router saw %d messages, want %d", calls, sessions*perSession)
	}
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	p := func(q float64) time.Duration { return latencies[int(q*float64(len(latencies)-1))] }
	t.Logf("%d sessions × %d messages: 0 lost, 0 duplicated; round trip p50 %v, p99 %v, max %v",
		sessions, perSession, p(0.50), p(0.99), latencies[len(latencies)-1])
}

func TestHelloIsRateLimitedPerAddress(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t, Config{Handler: echoHandler, PerIP: 0.01, PerIPBurst: 4})
	c, _, err := dial(t, ts, "") // one token
	if err != nil {
		t.Fatal(err)
	}
	slow := 0
	for range 5 { // new sessions, one after another, on one connection
		c.send(In{Type: "hello", Lang: "fr"})
		if o := c.recv(); o.Type == "slow" {
			slow++
			if !strings.Contains(o.Text, "très vite") {
				t.Errorf("slow-down text %q, want it in the visitor's language", o.Text)
			}
		}
	}
	if slow != 2 {
		t.Errorf("%d of 5 hellos slowed down with 3 tokens left, want 2", slow)
	}
}
