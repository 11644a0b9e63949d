package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/impbot/impbot/bot"
)

//go:embed static
var static embed.FS

// securityHeaders are set on everything the bot serves. The pages and
// answers carry a strict Content-Security-Policy: scripts, styles and
// connections only from the bot itself, nothing inline, no frames.
func securityHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
}

const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

type staticFile struct {
	raw, gz []byte
	etag    string
}

func loadStatic(name string) staticFile {
	raw, err := static.ReadFile("static/" + name)
	if err != nil {
		panic("web: missing embedded file " + name)
	}
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	_, _ = zw.Write(raw)
	_ = zw.Close()
	return staticFile{raw: raw, gz: b.Bytes(), etag: `"` + time.Now().UTC().Format("20060102150405") + `"`}
}

// CompressedSize is the gzip size of the widget's files (script and styles).
func CompressedSize() int {
	return len(loadStatic("widget.js").gz) + len(loadStatic("widget.css").gz)
}

func (s *Server) serveStatic(name, ctype string) http.HandlerFunc {
	f := loadStatic(name)
	return func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w)
		h := w.Header()
		h.Set("Content-Type", ctype)
		// Loaded by pages of other sites (the embed snippet).
		h.Set("Cross-Origin-Resource-Policy", "cross-origin")
		h.Set("Cache-Control", "public, max-age=300")
		h.Set("Vary", "Accept-Encoding")
		h.Set("ETag", f.etag)
		if r.Header.Get("If-None-Match") == f.etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			h.Set("Content-Encoding", "gzip")
			_, _ = w.Write(f.gz)
			return
		}
		_, _ = w.Write(f.raw)
	}
}

var demoPage = template.Must(template.ParseFS(static, "static/demo.html"))

func (s *Server) serveDemo(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w)
	w.Header().Set("Content-Security-Policy", pageCSP)
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	lang := "en"
	if strings.HasPrefix(r.URL.Query().Get("lang"), "fr") {
		lang = "fr"
	}
	title := s.title
	if title == "" {
		title = "impbot"
	}
	_ = demoPage.Execute(w, map[string]any{"Lang": lang, "FR": lang == "fr", "Title": title})
}

// cors answers for the POST fallback: the bot's own origin and
// allowed_origins get the CORS headers; any other origin is refused.
func (s *Server) cors(w http.ResponseWriter, r *http.Request) bool {
	securityHeaders(w)
	w.Header().Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	w.Header().Add("Vary", "Origin")
	if !s.originAllowed(r) {
		writeJSON(w, http.StatusForbidden, Out{Type: "error", Text: "origin not allowed"})
		return false
	}
	if o := r.Header.Get("Origin"); o != "" {
		w.Header().Set("Access-Control-Allow-Origin", o)
		w.Header().Set("Access-Control-Allow-Methods", "POST")
		w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
		w.Header().Set("Access-Control-Max-Age", "600")
	}
	return true
}

func (s *Server) servePreflight(w http.ResponseWriter, r *http.Request) {
	if s.cors(w, r) {
		w.WriteHeader(http.StatusNoContent)
	}
}

// maxFrame bounds one message from the widget (the text limit is checked
// after decoding, with a friendly answer). It leaves room for a text of
// MaxText characters in the costliest JSON encoding: every character a
// surrogate pair written as two \u escapes (12 bytes), with the other fields.
const maxFrame = 64 << 10

func decodeIn(w http.ResponseWriter, r *http.Request) (In, bool) {
	var in In
	err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFrame)).Decode(&in)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeJSON(w, http.StatusRequestEntityTooLarge, Out{Type: "error", Text: fmt.Sprintf(tooLong["en"]+" / "+tooLong["fr"], MaxText, MaxText)})
			return in, false
		}
		writeJSON(w, http.StatusBadRequest, Out{Type: "error", Text: "bad request"})
		return in, false
	}
	return in, true
}

func (s *Server) servePostHello(w http.ResponseWriter, r *http.Request) {
	if !s.cors(w, r) {
		return
	}
	in, ok := decodeIn(w, r)
	if !ok {
		return
	}
	if !s.allowIP(r, time.Now()) {
		writeJSON(w, http.StatusTooManyRequests, Out{Type: "slow", RetryMS: 3000, Text: bot.Msg(lang(in.Lang), "slow_down")})
		return
	}
	_, out := s.hello(in)
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) servePostSend(w http.ResponseWriter, r *http.Request) {
	if !s.cors(w, r) {
		return
	}
	in, ok := decodeIn(w, r)
	if !ok {
		return
	}
	sess := s.sessions.lookup(in.SID)
	if sess == nil {
		writeJSON(w, http.StatusOK, Out{Type: "error", Text: "unknown session", ID: in.ID})
		return
	}
	ipOK := s.allowIP(r, time.Now())
	writeJSON(w, http.StatusOK, s.handle(r.Context(), sess, in, ipOK, nil))
}

var upgrader = websocket.Upgrader{
	ReadBufferSize:  4096,
	WriteBufferSize: 4096,
	// The origin is checked in serveWS against allowed_origins.
	CheckOrigin: func(*http.Request) bool { return true },
}

const (
	writeWait  = 10 * time.Second
	pongWait   = 60 * time.Second
	pingPeriod = 25 * time.Second
)

// serveWS runs one WebSocket connection: the first message is a hello
// (which names or creates the session); then messages are answered in
// order, and entries from elsewhere (another tab, a staff answer) are
// pushed.
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w)
	if !s.originAllowed(r) {
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	if !s.allowIP(r, time.Now()) {
		http.Error(w, "too many connections, slow down", http.StatusTooManyRequests)
		return
	}
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	defer c.Close()
	c.SetReadLimit(maxFrame)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()

	out := make(chan Out, 16)
	push := make(chan Out, 32)
	var sess *session
	defer func() {
		if sess != nil {
			sess.mu.Lock()
			delete(sess.subs, push)
			sess.mu.Unlock()
		}
	}()
	writerDone := make(chan struct{})
	kick := s.kicked()
	go func() {
		defer close(writerDone)
		defer c.Close()
		ping := time.NewTicker(pingPeriod)
		defer ping.Stop()
		for {
			var msg any
			select {
			case <-ctx.Done():
				_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, ""), time.Now().Add(time.Second))
				return
			case <-kick:
				_ = c.UnderlyingConn().Close()
				return
			case <-s.closed:
				_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "restart"), time.Now().Add(time.Second))
				return
			case o := <-out:
				msg = o
			case o := <-push:
				msg = o
			case <-ping.C:
				_ = c.SetWriteDeadline(time.Now().Add(writeWait))
				if c.WriteMessage(websocket.PingMessage, nil) != nil {
					return
				}
				continue
			}
			_ = c.SetWriteDeadline(time.Now().Add(writeWait))
			if err := c.WriteJSON(msg); err != nil {
				return
			}
		}
	}()
	_ = c.SetReadDeadline(time.Now().Add(pongWait))
	c.SetPongHandler(func(string) error { return c.SetReadDeadline(time.Now().Add(pongWait)) })
	send := func(o Out) bool {
		select {
		case out <- o:
			return true
		case <-writerDone:
			return false
		}
	}
	for {
		_, data, err := c.ReadMessage()
		if err != nil {
			break
		}
		_ = c.SetReadDeadline(time.Now().Add(pongWait))
		var in In
		if err := json.Unmarshal(data, &in); err != nil {
			if !send(Out{Type: "error", Text: "bad message"}) {
				break
			}
			continue
		}
		if in.Type == "hello" {
			if !s.allowIP(r, time.Now()) {
				if !send(Out{Type: "slow", RetryMS: 3000, Text: bot.Msg(lang(in.Lang), "slow_down")}) {
					break
				}
				continue
			}
			if sess != nil {
				sess.mu.Lock()
				delete(sess.subs, push)
				sess.mu.Unlock()
			}
			var o Out
			sess, o = s.hello(in)
			sess.mu.Lock()
			sess.subs[push] = struct{}{}
			sess.mu.Unlock()
			if !send(o) {
				break
			}
			continue
		}
		if sess == nil {
			if !send(Out{Type: "error", ID: in.ID, Text: "say hello first"}) {
				break
			}
			continue
		}
		if !send(s.handle(ctx, sess, in, s.allowIP(r, time.Now()), push)) {
			break
		}
	}
	cancel()
	<-writerDone
}
