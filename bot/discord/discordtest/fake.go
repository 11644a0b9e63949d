// Package discordtest is a fake Discord for tests: the REST API routes the
// adapter uses and a gateway (op 10 Hello, Identify → READY, Resume →
// RESUMED, heartbeat ACKs, dispatches with increasing sequence numbers), on
// loopback. It records every REST call so tests can wait for and inspect
// what the bot sent, and it can inject faults (429s, 5xx, a dropped gateway
// connection, a close code on Identify).
package discordtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Defaults of a new server.
const (
	Token = "test-token"
	AppID = "999000000000000001"
	BotID = "999000000000000001"
)

// Call is one REST request the bot made.
type Call struct {
	Method string
	Path   string
	Query  string
	Body   []byte
	Status int
	Time   time.Time
}

// Identify is what the bot sent in an op 2 Identify.
type Identify struct {
	Token   string `json:"token"`
	Intents int    `json:"intents"`
	Shard   []int  `json:"shard,omitempty"` // [id, count] when sharded
}

type fault struct {
	method, prefix string
	times          int
	status         int
	body           string
	header         http.Header
}

type gwConn struct {
	ws  *websocket.Conn
	wmu sync.Mutex
}

func (c *gwConn) write(v any) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.ws.WriteJSON(v)
}

// Server is a fake Discord. Create it with NewServer.
type Server struct {
	// URL is the base URL to give the adapter as api_url.
	URL string
	// HeartbeatInterval is announced in Hello.
	HeartbeatInterval time.Duration

	srv      *httptest.Server
	upgrader websocket.Upgrader

	dmu sync.Mutex // orders dispatches
	mu  sync.Mutex
	// changed is closed (and replaced) whenever something is recorded.
	changed         chan struct{}
	calls           []Call
	faults          []*fault
	conn            *gwConn
	conns           []*gwConn
	seq             int64
	sessions        int
	identifies      []Identify
	resumes         int
	heartbeats      int
	closeOnIdentify int
	nextID          int64
	limits          []*routeLimit
}

// routeLimit is a per-route rate limit the fake enforces (Limit).
type routeLimit struct {
	method, prefix string
	n              int
	per            time.Duration
	accepted       []time.Time
	exceeded       int
}

// RecommendedShards is the shard count GET /gateway/bot recommends.
const RecommendedShards = 2

// NewServer starts a fake Discord; it stops when the test ends.
func NewServer(t testing.TB) *Server {
	s := &Server{
		HeartbeatInterval: time.Second,
		changed:           make(chan struct{}),
		nextID:            1_000_000_000_000_000,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v9/gateway", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]string{"url": "ws://" + r.Host + "/gw"})
	})
	mux.HandleFunc("GET /api/v9/gateway/bot", func(w http.ResponseWriter, r *http.Request) {
		if !s.authorized(w, r) {
			return
		}
		writeJSON(w, 200, map[string]any{"url": "ws://" + r.Host + "/gw", "shards": RecommendedShards})
	})
	mux.HandleFunc("/gw/", s.serveGateway)
	mux.HandleFunc("PUT /api/v9/applications/{app}/commands", s.putCommands)
	mux.HandleFunc("PUT /api/v9/applications/{app}/guilds/{guild}/commands", s.putCommands)
	mux.HandleFunc("POST /api/v9/channels/{channel}/messages", func(w http.ResponseWriter, r *http.Request) {
		if !s.authorized(w, r) {
			return
		}
		var body map[string]any
		_ = json.Unmarshal(readBody(r), &body)
		writeJSON(w, 200, s.message(r.PathValue("channel"), body))
	})
	mux.HandleFunc("POST /api/v9/interactions/{id}/{token}/callback", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("PATCH /api/v9/webhooks/{app}/{token}/messages/{msg}", func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		_ = json.Unmarshal(readBody(r), &body)
		writeJSON(w, 200, s.message("", body))
	})
	mux.HandleFunc("POST /api/v9/webhooks/{app}/{token}", func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		_ = json.Unmarshal(readBody(r), &body)
		if r.URL.Query().Get("wait") != "true" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		writeJSON(w, 200, s.message("", body))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 404, map[string]any{"message": "404: Not Found", "code": 0})
	})
	s.srv = httptest.NewServer(s.record(mux))
	s.URL = s.srv.URL
	t.Cleanup(s.Close)
	return s
}

// Close drops the gateway connections and stops the server.
func (s *Server) Close() {
	s.mu.Lock()
	conns := s.conns
	s.conns, s.conn = nil, nil
	s.mu.Unlock()
	for _, c := range conns {
		c.ws.Close()
	}
	s.srv.Close()
}

// record notes each REST call (with its body) and applies injected faults.
func (s *Server) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/gw") {
			next.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		rec := &statusRecorder{ResponseWriter: w, status: 200}
		if lim, retry := s.limit(r.Method, r.URL.Path, w.Header()); lim {
			secs := strconv.FormatFloat(retry.Seconds(), 'f', 3, 64)
			w.Header().Set("Content-Type", "application/json")
			rec.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"message": "You are being rate limited.", "retry_after": `+secs+`, "global": false}`)
		} else if f := s.takeFault(r.Method, r.URL.Path); f != nil {
			for k, vs := range f.header {
				for _, v := range vs {
					w.Header().Add(k, v)
				}
			}
			w.Header().Set("Content-Type", "application/json")
			rec.WriteHeader(f.status)
			io.WriteString(w, f.body)
		} else {
			next.ServeHTTP(rec, r)
		}
		s.mu.Lock()
		s.calls = append(s.calls, Call{
			Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Body: body, Status: rec.status, Time: time.Now(),
		})
		s.notifyLocked()
		s.mu.Unlock()
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (s *Server) takeFault(method, path string) *fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.method == method && strings.HasPrefix(path, f.prefix) {
			f.times--
			if f.times <= 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
			return f
		}
	}
	return nil
}

// Fail makes the next times requests with this method and path prefix fail
// with status and a JSON body.
func (s *Server) Fail(method, pathPrefix string, times, status int, body string, header http.Header) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{method: method, prefix: pathPrefix, times: times, status: status, body: body, header: header})
}

// Limit makes the fake enforce a rate limit of n requests per window per
// for requests with this method and path prefix, as Discord does per route:
// every answer carries X-RateLimit-Limit, -Remaining and -Reset-After, and
// a request that would be the n+1th within any window of per (sliding,
// stricter than Discord's fixed windows) gets a 429, counted by Exceeded.
func (s *Server) Limit(method, pathPrefix string, n int, per time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits = append(s.limits, &routeLimit{method: method, prefix: pathPrefix, n: n, per: per})
}

// Exceeded counts the requests refused by the limits set with Limit.
func (s *Server) Exceeded() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, l := range s.limits {
		n += l.exceeded
	}
	return n
}

// limit applies the route limits to a request: limited is true when it
// must be refused, with the time until it would pass.
func (s *Server) limit(method, path string, h http.Header) (limited bool, retry time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for _, l := range s.limits {
		if l.method != method || !strings.HasPrefix(path, l.prefix) {
			continue
		}
		i := 0
		for i < len(l.accepted) && now.Sub(l.accepted[i]) >= l.per {
			i++
		}
		l.accepted = l.accepted[i:]
		reset := l.per
		if len(l.accepted) > 0 {
			reset = l.per - now.Sub(l.accepted[0])
		}
		h.Set("X-RateLimit-Limit", strconv.Itoa(l.n))
		h.Set("X-RateLimit-Reset-After", strconv.FormatFloat(reset.Seconds(), 'f', 3, 64))
		h.Set("X-RateLimit-Bucket", "fake-"+l.prefix)
		if len(l.accepted) >= l.n {
			l.exceeded++
			h.Set("X-RateLimit-Remaining", "0")
			h.Set("Retry-After", strconv.Itoa(int(reset.Seconds()+0.999)))
			return true, reset
		}
		l.accepted = append(l.accepted, now)
		h.Set("X-RateLimit-Remaining", strconv.Itoa(l.n-len(l.accepted)))
	}
	return false, 0
}

// RateLimit makes the next times requests with this method and path prefix
// answer 429 with retry_after, as Discord does.
func (s *Server) RateLimit(method, pathPrefix string, times int, retryAfter time.Duration) {
	secs := strconv.FormatFloat(retryAfter.Seconds(), 'f', 3, 64)
	h := http.Header{}
	h.Set("Retry-After", strconv.Itoa(int(retryAfter.Seconds()+0.999)))
	h.Set("X-RateLimit-Limit", "5")
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Reset-After", secs)
	h.Set("X-RateLimit-Scope", "user")
	s.Fail(method, pathPrefix, times, http.StatusTooManyRequests,
		`{"message": "You are being rate limited.", "retry_after": `+secs+`, "global": false}`, h)
}

func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get("Authorization") != "Bot "+Token {
		writeJSON(w, 401, map[string]any{"message": "401: Unauthorized", "code": 0})
		return false
	}
	return true
}

func (s *Server) putCommands(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	var cmds []map[string]any
	if err := json.Unmarshal(readBody(r), &cmds); err != nil {
		writeJSON(w, 400, map[string]any{"message": "Invalid Form Body", "code": 50035})
		return
	}
	for _, c := range cmds {
		c["id"] = s.id()
		c["application_id"] = r.PathValue("app")
		c["version"] = "1"
	}
	writeJSON(w, 200, cmds)
}

func (s *Server) message(channel string, body map[string]any) map[string]any {
	m := map[string]any{
		"id": s.id(), "channel_id": channel, "type": 0, "timestamp": time.Now().UTC().Format(time.RFC3339),
		"author": map[string]any{"id": BotID, "username": "impbot", "bot": true},
	}
	for _, k := range []string{"content", "components", "flags"} {
		if v, ok := body[k]; ok {
			m[k] = v
		}
	}
	return m
}

func (s *Server) id() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	return strconv.FormatInt(s.nextID, 10)
}

func readBody(r *http.Request) []byte {
	b, _ := io.ReadAll(r.Body)
	return b
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// wait calls check under the lock until it returns true or timeout passes.
func (s *Server) wait(timeout time.Duration, check func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ok := check()
		ch := s.changed
		s.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-deadline.C:
			return false
		}
	}
}

// ---- gateway ----

func (s *Server) serveGateway(w http.ResponseWriter, r *http.Request) {
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	gc := &gwConn{ws: ws}
	s.mu.Lock()
	s.conns = append(s.conns, gc)
	s.mu.Unlock()
	defer func() {
		ws.Close()
		s.mu.Lock()
		if s.conn == gc {
			s.conn = nil
		}
		s.notifyLocked()
		s.mu.Unlock()
	}()
	if gc.write(map[string]any{"op": 10, "d": map[string]any{"heartbeat_interval": s.HeartbeatInterval.Milliseconds()}}) != nil {
		return
	}
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		var f struct {
			Op int             `json:"op"`
			D  json.RawMessage `json:"d"`
		}
		if json.Unmarshal(data, &f) != nil {
			return
		}
		switch f.Op {
		case 1:
			s.mu.Lock()
			s.heartbeats++
			s.mu.Unlock()
			if gc.write(map[string]any{"op": 11}) != nil {
				return
			}
		case 2:
			var id Identify
			_ = json.Unmarshal(f.D, &id)
			s.mu.Lock()
			s.identifies = append(s.identifies, id)
			code := s.closeOnIdentify
			s.notifyLocked()
			s.mu.Unlock()
			if id.Token != "Bot "+Token {
				code = 4004
			}
			if code != 0 {
				gc.wmu.Lock()
				_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, closeText(code)), time.Now().Add(time.Second))
				gc.wmu.Unlock()
				return
			}
			s.dmu.Lock()
			s.mu.Lock()
			s.seq++
			s.sessions++
			ready := map[string]any{"op": 0, "s": s.seq, "t": "READY", "d": map[string]any{
				"v": 9, "session_id": fmt.Sprintf("fake-session-%d", s.sessions),
				"user":        map[string]any{"id": BotID, "username": "impbot", "bot": true},
				"guilds":      []any{},
				"application": map[string]any{"id": AppID, "flags": 0},
			}}
			s.mu.Unlock()
			err := gc.write(ready)
			s.mu.Lock()
			s.conn = gc
			s.notifyLocked()
			s.mu.Unlock()
			s.dmu.Unlock()
			if err != nil {
				return
			}
		case 6:
			s.dmu.Lock()
			s.mu.Lock()
			s.resumes++
			s.seq++
			resumed := map[string]any{"op": 0, "s": s.seq, "t": "RESUMED", "d": map[string]any{}}
			s.mu.Unlock()
			err := gc.write(resumed)
			s.mu.Lock()
			s.conn = gc
			s.notifyLocked()
			s.mu.Unlock()
			s.dmu.Unlock()
			if err != nil {
				return
			}
		}
	}
}

func closeText(code int) string {
	switch code {
	case 4004:
		return "Authentication failed."
	case 4014:
		return "Disallowed intent(s)."
	}
	return "closed"
}

// CloseOnIdentify makes the gateway answer the next Identify with this close
// code instead of READY (0 turns it off).
func (s *Server) CloseOnIdentify(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeOnIdentify = code
}

// WaitConnected waits until a client has identified or resumed.
func (s *Server) WaitConnected(timeout time.Duration) error {
	if !s.wait(timeout, func() bool { return s.conn != nil }) {
		return errors.New("discordtest: no gateway connection")
	}
	return nil
}

// Dispatch sends an event (op 0) with the next sequence number to the
// connected client, waiting for one if needed.
func (s *Server) Dispatch(event string, d any) error {
	if err := s.WaitConnected(10 * time.Second); err != nil {
		return err
	}
	s.dmu.Lock()
	defer s.dmu.Unlock()
	s.mu.Lock()
	c := s.conn
	if c == nil {
		s.mu.Unlock()
		return errors.New("discordtest: gateway connection lost")
	}
	s.seq++
	frame := map[string]any{"op": 0, "s": s.seq, "t": event, "d": d}
	s.mu.Unlock()
	return c.write(frame)
}

// Drop cuts the gateway connection without a close frame, as a network
// failure would.
func (s *Server) Drop() {
	s.mu.Lock()
	c := s.conn
	s.conn = nil
	s.notifyLocked()
	s.mu.Unlock()
	if c != nil {
		c.ws.UnderlyingConn().Close()
	}
}

// Identifies returns the Identify payloads received.
func (s *Server) Identifies() []Identify {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Identify(nil), s.identifies...)
}

// Resumes returns the number of op 6 Resumes received.
func (s *Server) Resumes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.resumes
}

// WaitResumes waits until at least n Resumes were received.
func (s *Server) WaitResumes(n int, timeout time.Duration) error {
	if !s.wait(timeout, func() bool { return s.resumes >= n && s.conn != nil }) {
		return fmt.Errorf("discordtest: %d resumes, want %d", s.Resumes(), n)
	}
	return nil
}

// Heartbeats returns the number of op 1 heartbeats received.
func (s *Server) Heartbeats() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.heartbeats
}

// ---- REST calls ----

// Calls returns the REST calls so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// WaitCall waits for a REST call that matches and returns the first one.
func (s *Server) WaitCall(timeout time.Duration, match func(Call) bool) (Call, error) {
	var found Call
	ok := s.wait(timeout, func() bool {
		for _, c := range s.calls {
			if match(c) {
				found = c
				return true
			}
		}
		return false
	})
	if !ok {
		return Call{}, errors.New("discordtest: no matching call")
	}
	return found, nil
}

// WaitCalls waits until n REST calls match and returns them.
func (s *Server) WaitCalls(timeout time.Duration, n int, match func(Call) bool) ([]Call, error) {
	var found []Call
	ok := s.wait(timeout, func() bool {
		found = found[:0]
		for _, c := range s.calls {
			if match(c) {
				found = append(found, c)
			}
		}
		return len(found) >= n
	})
	if !ok {
		return found, fmt.Errorf("discordtest: %d matching calls, want %d", len(found), n)
	}
	return found, nil
}

// ChannelPath is the REST path of messages sent to a channel.
func ChannelPath(channel string) string { return "/api/v9/channels/" + channel + "/messages" }

// CallbackPrefix is the REST path prefix of the answers to an interaction.
func CallbackPrefix(interactionID string) string {
	return "/api/v9/interactions/" + interactionID + "/"
}

// WebhookPrefix is the REST path prefix of the edits and follow-ups of an
// interaction.
func WebhookPrefix(token string) string { return "/api/v9/webhooks/" + AppID + "/" + token }

// WaitMessages waits until n messages were sent successfully to channel
// and returns them.
func (s *Server) WaitMessages(channel string, n int, timeout time.Duration) ([]Sent, error) {
	calls, err := s.WaitCalls(timeout, n, func(c Call) bool {
		return c.Method == "POST" && c.Path == ChannelPath(channel) && c.Status == 200
	})
	if err != nil {
		return nil, err
	}
	var out []Sent
	for _, c := range calls {
		m, err := c.Message()
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// WaitResponse waits for the (successful) initial response to an
// interaction.
func (s *Server) WaitResponse(interactionID string, timeout time.Duration) (Response, error) {
	c, err := s.WaitCall(timeout, func(c Call) bool {
		return c.Method == "POST" && strings.HasPrefix(c.Path, CallbackPrefix(interactionID)) && c.Status < 300
	})
	if err != nil {
		return Response{}, err
	}
	return c.Response()
}

// ---- what the bot sent ----

// Sent is a message as the bot sent it (a REST body).
type Sent struct {
	Content         string `json:"content"`
	Flags           int    `json:"flags"`
	AllowedMentions *struct {
		Parse []string `json:"parse"`
	} `json:"allowed_mentions"`
	Reference *struct {
		MessageID string `json:"message_id"`
	} `json:"message_reference"`
	Components []Row `json:"components"`
}

// Row is an action row.
type Row struct {
	Type       int      `json:"type"`
	Components []Button `json:"components"`
}

// Button is a button component.
type Button struct {
	Type     int    `json:"type"`
	Label    string `json:"label"`
	Style    int    `json:"style"`
	CustomID string `json:"custom_id"`
}

// Buttons lists the message's buttons in order.
func (m Sent) Buttons() []Button {
	var bs []Button
	for _, r := range m.Components {
		bs = append(bs, r.Components...)
	}
	return bs
}

// Response is an interaction response (the callback body).
type Response struct {
	Type int           `json:"type"`
	Data *ResponseData `json:"data"`
}

// ResponseData is the data of an interaction response.
type ResponseData struct {
	Sent
	Choices []Choice `json:"choices"`
}

// Choice is an autocomplete choice.
type Choice struct {
	Name  string `json:"name"`
	Value any    `json:"value"`
}

// Message decodes the call's body as a message.
func (c Call) Message() (Sent, error) {
	var m Sent
	if err := json.Unmarshal(c.Body, &m); err != nil {
		return m, fmt.Errorf("decode message: %w", err)
	}
	return m, nil
}

// Response decodes the call's body as an interaction response.
func (c Call) Response() (Response, error) {
	var r Response
	if err := json.Unmarshal(c.Body, &r); err != nil {
		return r, fmt.Errorf("decode response: %w", err)
	}
	return r, nil
}

// ---- events ----

// User is a Discord user.
type User struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Bot      bool   `json:"bot,omitempty"`
}

// Bot is the bot's own user.
var Bot = User{ID: BotID, Username: "impbot", Bot: true}

// Message is an incoming message.
type Message struct {
	ID        string
	ChannelID string
	GuildID   string // empty for a direct message
	Author    User
	Content   string
	Mentions  []User
}

// SendMessage dispatches a MESSAGE_CREATE and returns the message's id.
func (s *Server) SendMessage(m Message) (string, error) {
	if m.ID == "" {
		m.ID = s.id()
	}
	d := map[string]any{
		"id": m.ID, "channel_id": m.ChannelID, "author": m.Author, "content": m.Content,
		"timestamp": time.Now().UTC().Format(time.RFC3339), "type": 0, "mentions": m.Mentions,
		"tts": false, "mention_everyone": false, "attachments": []any{}, "embeds": []any{},
	}
	if m.Mentions == nil {
		d["mentions"] = []any{}
	}
	if m.GuildID != "" {
		d["guild_id"] = m.GuildID
		d["member"] = map[string]any{"roles": []any{}}
	}
	return m.ID, s.Dispatch("MESSAGE_CREATE", d)
}

// Interaction is an incoming interaction.
type Interaction struct {
	ID, Token string // filled by SendInteraction when empty
	Type      int    // 2 command, 3 component, 4 autocomplete
	ChannelID string
	GuildID   string // empty in a direct message
	User      User
	Locale    string
	Data      any
	// Message is the message a pressed button is on (components only).
	Message map[string]any
}

// Slash is the data of a slash command with string options.
func Slash(name string, options map[string]string) any {
	var opts []map[string]any
	for k, v := range options {
		opts = append(opts, map[string]any{"name": k, "type": 3, "value": v})
	}
	return map[string]any{"id": "1", "name": name, "type": 1, "options": opts}
}

// Autocomplete is the data of an autocomplete request for one option.
func Autocomplete(name, option, typed string) any {
	return map[string]any{"id": "1", "name": name, "type": 1, "options": []map[string]any{
		{"name": option, "type": 3, "value": typed, "focused": true},
	}}
}

// ButtonPress is the data of a button press.
func ButtonPress(customID string) any {
	return map[string]any{"custom_id": customID, "component_type": 2}
}

// SendInteraction dispatches an INTERACTION_CREATE and returns it with its
// id and token.
func (s *Server) SendInteraction(in Interaction) (Interaction, error) {
	if in.ID == "" {
		in.ID = s.id()
	}
	if in.Token == "" {
		in.Token = "tok-" + in.ID
	}
	if in.Locale == "" {
		in.Locale = "en-US"
	}
	d := map[string]any{
		"id": in.ID, "application_id": AppID, "type": in.Type, "token": in.Token, "version": 1,
		"data": in.Data, "channel_id": in.ChannelID, "locale": in.Locale,
	}
	if in.GuildID != "" {
		d["guild_id"] = in.GuildID
		d["member"] = map[string]any{"user": in.User, "roles": []any{}}
	} else {
		d["user"] = in.User
	}
	if in.Message != nil {
		d["message"] = in.Message
	}
	return in, s.Dispatch("INTERACTION_CREATE", d)
}
