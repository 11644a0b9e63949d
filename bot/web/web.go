// Package web is the web chat adapter: a chat widget that any page embeds
// with one script tag, talking to the router over a WebSocket (with an HTTP
// POST fallback), and a demo page. It owns its transport like the other
// adapters: sessions, de-duplication of resent messages, rate limits, origin
// checks and the rendering of replies to safe HTML.
package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"go.etcd.io/bbolt"
	"golang.org/x/time/rate"

	"github.com/impbot/impbot/bot"
	"github.com/impbot/impbot/bot/cluster"
)

// Platform is the platform name of requests from the widget.
const Platform = "web"

// MaxText is the longest message the widget may send, in characters.
const MaxText = 2000

// Staff forwards a visitor's question to people (the "Talk to a person"
// form). Implementations deliver the staff's answer later with
// Server.StaffReply, using the ticket's Session.
type Staff interface {
	Forward(ctx context.Context, t Ticket) error
}

// Ticket is a visitor's request to talk to a person.
type Ticket struct {
	Session  string // the widget session (pass it back to StaffReply)
	Lang     string
	Name     string
	Email    string
	Question string
}

// Config configures the web adapter.
type Config struct {
	// Addr is the address to listen on when the web chat has its own
	// listener; empty when it is mounted on another server's mux.
	Addr string
	// AllowedOrigins are the origins (scheme://host[:port]) of other sites
	// that may embed the widget. The bot's own origin is always allowed.
	AllowedOrigins []string
	Title          string
	Greeting       string // shown first in the panel; empty for the default
	ThemeColor     string // CSS colour such as #0b5fff

	Handler bot.Handler
	Stats   bot.Stats
	Log     *slog.Logger
	// Staff receives "Talk to a person" requests; nil shows the contact
	// details instead.
	Staff Staff
	// Contact is shown when there is no Staff (organization.contact).
	Contact string
	// DB, if set, keeps the conversations across restarts (the bbolt file
	// of sessions.path); otherwise they live in memory.
	DB *bbolt.DB
	// Cluster, when several replicas share a Redis, holds the conversations
	// there instead (DB is then not used): a visitor's next request may
	// land on any replica and the conversation goes on.
	Cluster *cluster.Redis

	// Limits (zero: the defaults). PerSession and PerIP are messages per
	// second, with their bursts.
	PerSession      float64
	PerSessionBurst int
	PerIP           float64
	PerIPBurst      int
	SessionTTL      time.Duration
	MaxSessions     int
}

// Server is the web chat: an http.Handler plus the adapter methods that
// `impbot serve` uses (Name, Run, Ready).
type Server struct {
	cfg      Config
	title    string // web.title as configured ("" = the widget's own, per language)
	log      *slog.Logger
	stats    bot.Stats
	sessions *store
	allowed  map[string]bool
	mux      *http.ServeMux

	ipMu   sync.Mutex
	ips    map[string]*ipEntry
	ipGC   time.Time
	ready  chan struct{}
	closed chan struct{}
	once   sync.Once

	// pushReady is closed once the replica follows the other replicas'
	// changes (with Cluster).
	pushReady chan struct{}

	kickMu sync.Mutex
	kick   chan struct{} // closed to drop the open connections (tests)
}

type ipEntry struct {
	lim  *rate.Limiter
	seen time.Time
}

// New checks the config and returns the server.
func New(cfg Config) (*Server, error) {
	if cfg.Handler == nil {
		return nil, errors.New("web: no handler")
	}
	if cfg.Stats == nil {
		cfg.Stats = bot.NopStats{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.ThemeColor == "" {
		cfg.ThemeColor = "#0b5cad"
	}
	if !validColor(cfg.ThemeColor) {
		return nil, fmt.Errorf("web.theme_color: %q is not a colour such as #0b5cad", cfg.ThemeColor)
	}
	if utf8.RuneCountInString(cfg.Title) > 80 {
		return nil, errors.New("web.title: at most 80 characters")
	}
	if utf8.RuneCountInString(cfg.Greeting) > 1000 {
		return nil, errors.New("web.greeting: at most 1000 characters")
	}
	if cfg.PerSession <= 0 {
		cfg.PerSession, cfg.PerSessionBurst = 1, 6
	}
	if cfg.PerSessionBurst <= 0 {
		cfg.PerSessionBurst = 6
	}
	if cfg.PerIP <= 0 {
		cfg.PerIP, cfg.PerIPBurst = 5, 40
	}
	if cfg.PerIPBurst <= 0 {
		cfg.PerIPBurst = 40
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 24 * time.Hour
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = 50000
	}
	s := &Server{cfg: cfg, title: cfg.Title, log: cfg.Log, stats: cfg.Stats, allowed: map[string]bool{}, ips: map[string]*ipEntry{},
		ready: make(chan struct{}), closed: make(chan struct{}), kick: make(chan struct{}), pushReady: make(chan struct{})}
	for _, o := range cfg.AllowedOrigins {
		n, err := normOrigin(o)
		if err != nil {
			return nil, fmt.Errorf("web.allowed_origins: %w", err)
		}
		s.allowed[n] = true
	}
	s.sessions = newStore(cfg.SessionTTL, cfg.MaxSessions, func() *rate.Limiter {
		return rate.NewLimiter(rate.Limit(cfg.PerSession), cfg.PerSessionBurst)
	})
	s.sessions.log = cfg.Log
	s.sessions.shared = cfg.Cluster
	if cfg.DB != nil && cfg.Cluster == nil {
		if err := s.sessions.open(cfg.DB, time.Now()); err != nil {
			return nil, fmt.Errorf("web: load conversations: %w", err)
		}
	}
	s.mux = http.NewServeMux()
	s.Mount(s.mux)
	if cfg.Cluster != nil {
		go s.pushLoop()
	}
	return s, nil
}

func validColor(c string) bool {
	if len(c) != 4 && len(c) != 7 || c[0] != '#' {
		return false
	}
	for _, r := range c[1:] {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
			return false
		}
	}
	return true
}

// normOrigin reduces an origin to scheme://host[:port], lower case.
func normOrigin(o string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(o))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || (u.Path != "" && u.Path != "/") {
		return "", fmt.Errorf("%q is not an origin such as https://www.example.com", o)
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

// Mount registers the web chat's routes on mux: the demo page at /, the
// widget's files, the WebSocket and the POST fallback. Mounted on another
// server (no Config.Addr), the chat is ready with that server.
func (s *Server) Mount(mux *http.ServeMux) {
	if mux != s.mux && s.cfg.Addr == "" {
		defer s.markReady()
	}
	mux.HandleFunc("GET /{$}", s.serveDemo)
	mux.HandleFunc("GET /widget.js", s.serveStatic("widget.js", "text/javascript; charset=utf-8"))
	mux.HandleFunc("GET /widget.css", s.serveStatic("widget.css", "text/css; charset=utf-8"))
	mux.HandleFunc("GET /demo.css", s.serveStatic("demo.css", "text/css; charset=utf-8"))
	mux.HandleFunc("GET /chat/ws", s.serveWS)
	mux.HandleFunc("POST /chat/hello", s.servePostHello)
	mux.HandleFunc("POST /chat/send", s.servePostSend)
	mux.HandleFunc("OPTIONS /chat/{what}", s.servePreflight)
}

// ServeHTTP serves the web chat's routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Name is the platform name.
func (s *Server) Name() string { return Platform }

// Ready is nil once the server takes connections.
func (s *Server) Ready() error {
	select {
	case <-s.ready:
		return nil
	default:
		return errors.New("web chat not listening yet")
	}
}

// Run serves until ctx is cancelled: on its own listener when Config.Addr
// is set (otherwise the routes are mounted elsewhere), and sweeps idle
// sessions.
func (s *Server) Run(ctx context.Context) error {
	var srv *http.Server
	errc := make(chan error, 1)
	if s.cfg.Addr != "" {
		ln, err := net.Listen("tcp", s.cfg.Addr)
		if err != nil {
			return fmt.Errorf("web.addr %s: %w", s.cfg.Addr, err)
		}
		srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
		go func() { errc <- srv.Serve(ln) }()
		s.log.Info("web chat listening", "addr", ln.Addr().String())
	}
	s.markReady()
	t := time.NewTicker(5 * time.Minute)
	defer t.Stop()
	save := time.NewTicker(250 * time.Millisecond)
	defer save.Stop()
	flush := func() {
		if err := s.sessions.flush(); err != nil {
			s.log.Error("web: cannot save conversations", "err", err)
		}
	}
	defer flush()
	for {
		select {
		case <-save.C:
			flush()
		case <-ctx.Done():
			s.Close()
			if srv != nil {
				sh, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = srv.Shutdown(sh)
			}
			return nil
		case err := <-errc:
			return fmt.Errorf("web chat server: %w", err)
		case now := <-t.C:
			s.sessions.sweep(now)
		}
	}
}

// markReady records that the routes are served (Run, or a test server).
func (s *Server) markReady() {
	select {
	case <-s.ready:
	default:
		close(s.ready)
	}
}

// dropConnections cuts every open WebSocket without a close handshake, as
// a network failure would (tests of the widget's reconnection).
func (s *Server) dropConnections() {
	s.kickMu.Lock()
	defer s.kickMu.Unlock()
	close(s.kick)
	s.kick = make(chan struct{})
}

func (s *Server) kicked() <-chan struct{} {
	s.kickMu.Lock()
	defer s.kickMu.Unlock()
	return s.kick
}

// Close ends the WebSocket connections (they reconnect elsewhere).
func (s *Server) Close() { s.once.Do(func() { close(s.closed) }) }

// originAllowed reports whether a request's Origin may use the chat: no
// Origin (not a browser), the bot's own origin, or one in allowed_origins.
func (s *Server) originAllowed(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	n, err := normOrigin(o)
	if err != nil {
		return false
	}
	if s.allowed[n] {
		return true
	}
	u, _ := url.Parse(n)
	return strings.EqualFold(u.Host, r.Host)
}

// allowIP takes one token from the client address's limiter.
func (s *Server) allowIP(r *http.Request, now time.Time) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	s.ipMu.Lock()
	defer s.ipMu.Unlock()
	e := s.ips[host]
	if e == nil {
		e = &ipEntry{lim: rate.NewLimiter(rate.Limit(s.cfg.PerIP), s.cfg.PerIPBurst)}
		s.ips[host] = e
	}
	e.seen = now
	if now.Sub(s.ipGC) > time.Minute {
		for k, v := range s.ips {
			if now.Sub(v.seen) > 10*time.Minute {
				delete(s.ips, k)
			}
		}
		s.ipGC = now
	}
	return e.lim.AllowN(now, 1)
}

// In is a message from the widget.
type In struct {
	Type   string `json:"type"` // "hello", "msg", "handoff"
	SID    string `json:"sid,omitempty"`
	ID     string `json:"id,omitempty"`
	Text   string `json:"text,omitempty"`
	Action string `json:"action,omitempty"`
	Label  string `json:"label,omitempty"` // the pressed button's label, shown as the user's line
	Lang   string `json:"lang,omitempty"`
	// The handoff form.
	Name     string `json:"name,omitempty"`
	Email    string `json:"email,omitempty"`
	Question string `json:"question,omitempty"`
}

// Out is a message to the widget.
type Out struct {
	Type    string  `json:"type"` // "hello", "entries", "slow", "error"
	SID     string  `json:"sid,omitempty"`
	ID      string  `json:"id,omitempty"`
	Entries []Entry `json:"entries,omitempty"`
	// Reset: the conversation was deleted; show only these entries.
	Reset bool `json:"reset,omitempty"`
	// Hello: the widget's settings.
	Title    string `json:"title,omitempty"`
	Greeting string `json:"greeting,omitempty"`
	Theme    string `json:"theme,omitempty"`
	Staff    bool   `json:"staff,omitempty"` // the handoff form is available
	// Slow: when to retry, and the friendly notice.
	RetryMS int    `json:"retry_ms,omitempty"`
	Text    string `json:"text,omitempty"`
}

func (s *Server) hello(in In) (*session, Out) {
	sess, sid := s.sessions.get(in.SID, time.Now())
	sess.mu.Lock()
	if s.sessions.shared != nil {
		ctx, cancel := sharedCtx(context.Background())
		if sid != in.SID {
			// A new visitor: known to every replica before its first
			// message, which may land on another one.
			s.saveShared(ctx, sess, nil, true)
		} else {
			s.sessions.refresh(ctx, sess)
		}
		cancel()
	}
	es := append([]Entry(nil), sess.entries...)
	sess.mu.Unlock()
	return sess, Out{Type: "hello", SID: sid, Entries: es, Title: s.title, Greeting: s.cfg.Greeting,
		Theme: s.cfg.ThemeColor, Staff: s.cfg.Staff != nil}
}

func lang(l string) string {
	if strings.HasPrefix(strings.ToLower(l), "fr") {
		return "fr"
	}
	return "en"
}

// handle answers one message of a session: a duplicate gets the entries it
// produced the first time, without asking the router again.
func (s *Server) handle(ctx context.Context, sess *session, in In, ipOK bool, from chan Out) Out {
	l := lang(in.Lang)
	if !validClientID(in.ID) {
		return Out{Type: "error", Text: "bad message id"}
	}
	unlock := s.sessions.lockShared(ctx, sess.id)
	defer unlock()
	sess.mu.Lock()
	defer sess.mu.Unlock()
	if s.sessions.shared != nil {
		// Another replica may have answered since (this message too).
		rctx, cancel := sharedCtx(ctx)
		s.sessions.refresh(rctx, sess)
		cancel()
	}
	if es, ok := sess.done[in.ID]; ok {
		return Out{Type: "entries", ID: in.ID, Entries: es}
	}
	now := time.Now()
	if !ipOK || !sess.lim.AllowN(now, 1) {
		return Out{Type: "slow", ID: in.ID, RetryMS: 3000, Text: bot.Msg(l, "slow_down")}
	}
	s.stats.MessageIn(Platform)
	var es []Entry
	reset := false
	switch in.Type {
	case "handoff":
		es = s.handoff(ctx, sess, in, l)
	default:
		es, reset = s.message(ctx, sess, in, l)
	}
	s.stats.MessageOut(Platform)
	sess.remember(in.ID, es)
	s.sessions.touch(sess.id)
	s.saveShared(ctx, sess, es, reset)
	o := Out{Type: "entries", ID: in.ID, Entries: es, Reset: reset}
	sess.publish(o, from)
	return o
}

func (s *Server) message(ctx context.Context, sess *session, in In, l string) (es []Entry, reset bool) {
	text := strings.ToValidUTF8(in.Text, "\uFFFD")
	shown := text
	if in.Action != "" {
		shown = in.Label
		if utf8.RuneCountInString(shown) > 200 {
			shown = string([]rune(shown)[:200])
		}
	}
	if utf8.RuneCountInString(text) > MaxText || len(in.Action) > 64 {
		return sess.append(
			Entry{From: "user", ID: in.ID, Text: string([]rune(text)[:min(200, utf8.RuneCountInString(text))]) + "…"},
			botEntry(in.ID, &bot.Response{Replies: []bot.Reply{{Text: fmt.Sprintf(tooLong[l], MaxText)}}})), false
	}
	req := &bot.Request{Platform: Platform, ChatID: sess.id, UserID: sess.id, Lang: l, Text: text, Action: in.Action}
	resp, err := s.cfg.Handler.Handle(ctx, req)
	if err != nil || resp == nil {
		if err != nil {
			s.log.Error("web: handler failed", "user", bot.Pseudonym(req.SessionKey()), "err", err)
		}
		resp = &bot.Response{Replies: []bot.Reply{{Text: bot.Msg(l, "error")}}}
	}
	if cmd, _, ok := bot.ParseCommand(text); ok && cmd == "forget" {
		// /forget also deletes the conversation the widget shows.
		sess.entries = nil
		sess.gen++
		sess.done, sess.order = nil, nil
		sess.pending = time.Time{}
		return sess.append(botEntry(in.ID, resp)), true
	}
	if strings.HasPrefix(in.Action, bot.ActHandoff) && s.cfg.Staff != nil {
		// The widget opens its form for this button; a bare press (an old
		// widget) gets the form's prompt.
		resp = &bot.Response{Replies: []bot.Reply{{Text: handoffMsgs[l]["prompt"]}}}
	}
	return sess.append(Entry{From: "user", ID: in.ID, Text: shown}, botEntry(in.ID, resp)), false
}

var tooLong = map[string]string{
	"en": "That message is too long for me: please keep it under %d characters.",
	"fr": "Ce message est trop long pour moi : restez sous %d caractères.",
}

func botEntry(id string, resp *bot.Response) Entry {
	e := Entry{From: "bot", ID: id, Dialogue: resp.Dialogue}
	for _, r := range resp.Replies {
		if r.Suggestions == nil {
			r.Suggestions = []string{}
		}
		if r.Buttons == nil {
			r.Buttons = []bot.Button{}
		}
		e.Replies = append(e.Replies, WebReply{Reply: r, HTML: RenderHTML(r.Text)})
	}
	return e
}

// StaffReply delivers a staff answer to the session of a Ticket (its
// Session key): it joins the conversation and is pushed to the open
// connections; a visitor who comes back later sees it in the history. It
// reports false when the session is gone (expired or deleted).
func (s *Server) StaffReply(session, lang, text string) bool {
	sess := s.sessions.byKey(session)
	if sess == nil {
		return false
	}
	l := lang
	if l != "fr" {
		l = "en"
	}
	md := "**" + handoffMsgs[l]["answer"] + "**\n\n" + text + "\n\n_" + bot.Msg(l, "notice") + "_"
	ctx := context.Background()
	unlock := s.sessions.lockShared(ctx, sess.id)
	defer unlock()
	sess.mu.Lock()
	defer sess.mu.Unlock()
	if s.sessions.shared != nil {
		rctx, cancel := sharedCtx(ctx)
		s.sessions.refresh(rctx, sess)
		cancel()
	}
	es := sess.append(Entry{From: "staff", HTML: RenderHTML(md)})
	sess.pending = time.Time{}
	s.sessions.touch(sess.id)
	s.saveShared(ctx, sess, es, false)
	sess.publish(Out{Type: "entries", Entries: es}, nil)
	return true
}

// saveShared writes the conversation to Redis, with several replicas
// (caller holds sess.mu). A failure is logged: this replica goes on with
// its copy and writes it again with the next change.
func (s *Server) saveShared(ctx context.Context, sess *session, added []Entry, full bool) {
	if s.sessions.shared == nil {
		return
	}
	sctx, cancel := sharedCtx(ctx)
	defer cancel()
	if err := s.sessions.save(sctx, sess, added, full); err != nil {
		s.sessions.logShared("web: conversation not written to redis", err)
	}
}

var handoffMsgs = map[string]map[string]string{
	"en": {
		"prompt":  "Please fill in the form: your name, your e-mail and your question.",
		"sent":    "Thank you. Your question is with our team; a person will answer you here (come back to this page) or by e-mail.",
		"invalid": "Please give your name, a valid e-mail address and your question.",
		"none":    "To talk to a person about your situation, contact %s.",
		"failed":  "Sorry, I could not pass your question to our team just now. Please try again in a moment.",
		"already": "Your question is already with our team. A person will answer you here.",
		"answer":  "💬 Answer from our team",
	},
	"fr": {
		"prompt":  "Remplissez le formulaire : votre nom, votre courriel et votre question.",
		"sent":    "Merci. Votre question est entre les mains de notre équipe ; une personne vous répondra ici (revenez sur cette page) ou par courriel.",
		"invalid": "Indiquez votre nom, une adresse courriel valide et votre question.",
		"none":    "Pour parler de votre situation à une personne, contactez %s.",
		"failed":  "Désolé, je n'ai pas pu transmettre votre question à notre équipe. Réessayez dans un instant.",
		"already": "Votre question est déjà entre les mains de notre équipe. Une personne vous répondra ici.",
		"answer":  "💬 Réponse de notre équipe",
	},
}

func validEmail(e string) bool {
	at := strings.LastIndexByte(e, '@')
	return at > 0 && at < len(e)-3 && strings.Contains(e[at:], ".") && !strings.ContainsAny(e, " \t\r\n<>\"") && len(e) <= 254
}

func (s *Server) handoff(ctx context.Context, sess *session, in In, l string) []Entry {
	name := strings.TrimSpace(strings.ToValidUTF8(in.Name, ""))
	email := strings.TrimSpace(strings.ToValidUTF8(in.Email, ""))
	q := strings.TrimSpace(strings.ToValidUTF8(in.Question, ""))
	user := Entry{From: "user", ID: in.ID, Text: q}
	say := func(key string, args ...any) []Entry {
		t := handoffMsgs[l][key]
		if len(args) > 0 {
			t = fmt.Sprintf(t, args...)
		}
		return sess.append(user, botEntry(in.ID, &bot.Response{Replies: []bot.Reply{{Text: t}}}))
	}
	if s.cfg.Staff == nil {
		c := s.cfg.Contact
		if c == "" {
			c = bot.Msg(l, "default_contact")
		}
		return say("none", c)
	}
	if name == "" || !validEmail(email) || q == "" || utf8.RuneCountInString(name) > 100 || utf8.RuneCountInString(q) > MaxText {
		return say("invalid")
	}
	// One question at a time, until staff answer or ten minutes pass.
	if !sess.pending.IsZero() && time.Since(sess.pending) < 10*time.Minute {
		return say("already")
	}
	if err := s.cfg.Staff.Forward(ctx, Ticket{Session: sess.id, Lang: l, Name: name, Email: email, Question: q}); err != nil {
		s.log.Error("web: handoff failed", "user", bot.Pseudonym(Platform+":"+sess.id), "err", err)
		return say("failed")
	}
	sess.pending = time.Now()
	return say("sent")
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
