// Package telegramtest is a fake Telegram Bot API server on loopback for
// end-to-end tests of the Telegram adapter through the real client library.
// It serves getMe, getUpdates (long polling with offsets), sendMessage,
// answerCallbackQuery, setMyCommands, setWebhook and deleteWebhook, records
// every call, and can inject failures (429 with retry_after, 5xx, HTML error
// pages).
package telegramtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"
)

// Bot identity served by getMe.
const (
	BotID       = 7000
	BotUsername = "imp_test_bot"
)

// Call is one request the fake received.
type Call struct {
	Method string
	Params url.Values
	Time   time.Time
	// Status is the HTTP status the fake answered.
	Status int
}

// Button is an inline keyboard button as sent.
type Button struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data"`
}

// Markup is a reply_markup as sent.
type Markup struct {
	InlineKeyboard [][]Button `json:"inline_keyboard"`
	ForceReply     bool       `json:"force_reply"`
}

// Sent is a message the bot sent successfully.
type Sent struct {
	MessageID int
	ChatID    int64
	Text      string
	ParseMode string
	ReplyTo   int
	Markup    *Markup
	Time      time.Time
}

// Buttons returns the inline buttons in order.
func (s Sent) Buttons() []Button {
	if s.Markup == nil {
		return nil
	}
	var out []Button
	for _, row := range s.Markup.InlineKeyboard {
		out = append(out, row...)
	}
	return out
}

// Fault is a canned failure answer.
type Fault struct {
	Status      int
	Body        string
	ContentType string
}

// Flood is a 429 asking to retry after n seconds.
func Flood(n int) Fault {
	return Fault{Status: 429, ContentType: "application/json",
		Body: fmt.Sprintf(`{"ok":false,"error_code":429,"description":"Too Many Requests: retry after %d","parameters":{"retry_after":%d}}`, n, n)}
}

// APIError is a JSON Bot API error.
func APIError(code int, desc string) Fault {
	b, _ := json.Marshal(map[string]any{"ok": false, "error_code": code, "description": desc})
	return Fault{Status: code, ContentType: "application/json", Body: string(b)}
}

// HTMLError is a proxy's HTML error page (not a Bot API answer).
func HTMLError(status int) Fault {
	return Fault{Status: status, ContentType: "text/html", Body: "<html><body><h1>" + http.StatusText(status) + "</h1></body></html>"}
}

type update struct {
	id  int
	raw json.RawMessage
}

// Server is the fake.
type Server struct {
	URL   string
	Token string

	srv *httptest.Server

	mu       sync.Mutex
	changed  chan struct{}
	updates  []update
	nextUpd  int
	nextMsg  int
	offset   int
	calls    []Call
	sent     []Sent
	faults   map[string][]Fault
	chatType map[int64]string
}

// New starts a fake server; it is closed when the test ends.
func New(t testing.TB) *Server {
	s := &Server{Token: "123456:TEST-token_abc", changed: make(chan struct{}), nextUpd: 1000, nextMsg: 500,
		faults: map[string][]Fault{}, chatType: map[int64]string{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	t.Cleanup(s.Close)
	return s
}

// Close stops the server.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Fail queues failures: the next calls of method get them, in order.
func (s *Server) Fail(method string, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[method] = append(s.faults[method], faults...)
}

// User is a Telegram user in pushed updates.
type User struct {
	ID       int64
	Name     string
	Lang     string
	IsBot    bool
	Username string
}

func (u User) json() map[string]any {
	m := map[string]any{"id": u.ID, "is_bot": u.IsBot, "first_name": u.Name}
	if u.Name == "" {
		m["first_name"] = "User" + strconv.FormatInt(u.ID, 10)
	}
	if u.Lang != "" {
		m["language_code"] = u.Lang
	}
	if u.Username != "" {
		m["username"] = u.Username
	}
	return m
}

// Msg describes an incoming message.
type Msg struct {
	ChatID   int64
	ChatType string // "private" (default when ChatID > 0), "group", "supergroup"
	From     User
	Text     string
	// ReplyTo is the message this one replies to (its id and author).
	ReplyTo     int
	ReplyToFrom *User
}

func (s *Server) push(body map[string]any) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextUpd++
	id := s.nextUpd
	body["update_id"] = id
	raw, _ := json.Marshal(body)
	s.updates = append(s.updates, update{id: id, raw: raw})
	s.notify()
	return id
}

// PushMessage queues a message update and returns its update id. Commands
// and @mentions get their entities, as Telegram sends them.
func (s *Server) PushMessage(m Msg) int {
	if m.ChatType == "" {
		m.ChatType = "private"
		if m.ChatID < 0 {
			m.ChatType = "supergroup"
		}
	}
	s.mu.Lock()
	s.nextMsg++
	msgID := s.nextMsg
	s.chatType[m.ChatID] = m.ChatType
	s.mu.Unlock()
	chat := map[string]any{"id": m.ChatID, "type": m.ChatType}
	if m.ChatType != "private" {
		chat["title"] = "Group"
	}
	msg := map[string]any{"message_id": msgID, "date": time.Now().Unix(), "chat": chat, "from": m.From.json(), "text": m.Text}
	if ents := entities(m.Text); len(ents) > 0 {
		msg["entities"] = ents
	}
	if m.ReplyTo != 0 {
		from := User{ID: BotID, IsBot: true, Name: "IMP", Username: BotUsername}
		if m.ReplyToFrom != nil {
			from = *m.ReplyToFrom
		}
		msg["reply_to_message"] = map[string]any{"message_id": m.ReplyTo, "date": time.Now().Unix(), "chat": chat,
			"from": from.json(), "text": "…"}
	}
	return s.push(map[string]any{"message": msg})
}

// entities finds a leading bot command and @mentions, with UTF-16 offsets.
func entities(text string) []map[string]any {
	var out []map[string]any
	u := utf16.Encode([]rune(text))
	for i := 0; i < len(u); i++ {
		c := u[i]
		if (c == '/' && i == 0) || (c == '@' && (i == 0 || u[i-1] == ' ' || u[i-1] == '\n')) {
			j := i + 1
			for j < len(u) && (u[j] >= 'a' && u[j] <= 'z' || u[j] >= 'A' && u[j] <= 'Z' || u[j] >= '0' && u[j] <= '9' || u[j] == '_' || (c == '/' && u[j] == '@')) {
				j++
			}
			if j-i < 2 {
				continue
			}
			typ := "mention"
			if c == '/' {
				typ = "bot_command"
			}
			out = append(out, map[string]any{"type": typ, "offset": i, "length": j - i})
			i = j
		}
	}
	return out
}

// PushCallback queues a button press on message msgID in chatID.
func (s *Server) PushCallback(chatID int64, from User, msgID int, data string) (updateID int, queryID string) {
	s.mu.Lock()
	typ := s.chatType[chatID]
	s.mu.Unlock()
	if typ == "" {
		typ = "private"
		if chatID < 0 {
			typ = "supergroup"
		}
	}
	queryID = fmt.Sprintf("cbq-%d-%d", chatID, time.Now().UnixNano())
	cq := map[string]any{
		"id": queryID, "from": from.json(), "chat_instance": "ci", "data": data,
		"message": map[string]any{"message_id": msgID, "date": time.Now().Unix(),
			"chat": map[string]any{"id": chatID, "type": typ},
			"from": User{ID: BotID, IsBot: true, Name: "IMP", Username: BotUsername}.json()},
	}
	return s.push(map[string]any{"callback_query": cq}), queryID
}

// PushRaw queues an update given as JSON (update_id is set by the fake).
func (s *Server) PushRaw(body map[string]any) int { return s.push(body) }

// Take removes a queued update and returns its JSON, for a test that
// delivers it to a webhook itself (as Telegram does in webhook mode: to the
// replica the load balancer picks). It returns nil for an unknown id.
func (s *Server) Take(updateID int) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, u := range s.updates {
		if u.id == updateID {
			s.updates = append(s.updates[:i], s.updates[i+1:]...)
			return u.raw
		}
	}
	return nil
}

// Offset is the highest offset the bot has confirmed: updates below it are
// acknowledged and will not be delivered again.
func (s *Server) Offset() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.offset
}

// Pending counts the updates not yet acknowledged.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.updates)
}

// Calls returns the calls of a method ("" for all), in order.
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if method == "" || c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// Sent returns the messages sent successfully, in order.
func (s *Server) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.sent...)
}

// SentTo returns the messages sent to one chat, in order.
func (s *Server) SentTo(chatID int64) []Sent {
	var out []Sent
	for _, m := range s.Sent() {
		if m.ChatID == chatID {
			out = append(out, m)
		}
	}
	return out
}

// WaitFor waits until cond (called under no lock) holds, failing the test
// after timeout.
func (s *Server) WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
	}
}

// WaitSent waits until at least n messages were sent to chatID and returns
// them.
func (s *Server) WaitSent(t testing.TB, chatID int64, n int, timeout time.Duration) []Sent {
	t.Helper()
	s.WaitFor(t, timeout, fmt.Sprintf("%d message(s) to chat %d", n, chatID), func() bool { return len(s.SentTo(chatID)) >= n })
	return s.SentTo(chatID)
}

func (s *Server) reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func ok(result any) map[string]any { return map[string]any{"ok": true, "result": result} }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rest, found := strings.CutPrefix(r.URL.Path, "/bot")
	token, method, _ := strings.Cut(rest, "/")
	_ = r.ParseForm()
	call := Call{Method: method, Params: r.Form, Time: time.Now()}
	record := func(status int) {
		call.Status = status
		s.mu.Lock()
		s.calls = append(s.calls, call)
		s.notify()
		s.mu.Unlock()
	}
	if !found || token != s.Token {
		record(401)
		s.reply(w, 401, map[string]any{"ok": false, "error_code": 401, "description": "Unauthorized"})
		return
	}
	s.mu.Lock()
	if fs := s.faults[method]; len(fs) > 0 {
		f := fs[0]
		s.faults[method] = fs[1:]
		s.mu.Unlock()
		record(f.Status)
		w.Header().Set("Content-Type", f.ContentType)
		w.WriteHeader(f.Status)
		_, _ = w.Write([]byte(f.Body))
		return
	}
	s.mu.Unlock()

	switch method {
	case "getMe":
		record(200)
		s.reply(w, 200, ok(User{ID: BotID, IsBot: true, Name: "IMP", Username: BotUsername}.json()))
	case "getUpdates":
		s.getUpdates(w, r, record)
	case "sendMessage":
		s.sendMessage(w, r, record)
	case "answerCallbackQuery", "setMyCommands", "deleteWebhook", "setWebhook", "deleteMessage":
		record(200)
		s.reply(w, 200, ok(true))
	default:
		record(404)
		s.reply(w, 404, map[string]any{"ok": false, "error_code": 404, "description": "Not Found: method not found"})
	}
}

func (s *Server) getUpdates(w http.ResponseWriter, r *http.Request, record func(int)) {
	offset, _ := strconv.Atoi(r.Form.Get("offset"))
	timeout, _ := strconv.Atoi(r.Form.Get("timeout"))
	limit, _ := strconv.Atoi(r.Form.Get("limit"))
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	record(200)
	deadline := time.NewTimer(time.Duration(timeout) * time.Second)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		if offset > s.offset {
			s.offset = offset
			keep := s.updates[:0]
			for _, u := range s.updates {
				if u.id >= offset {
					keep = append(keep, u)
				}
			}
			s.updates = keep
			s.notify()
		}
		var out []json.RawMessage
		for _, u := range s.updates {
			if u.id >= offset && len(out) < limit {
				out = append(out, u.raw)
			}
		}
		ch := s.changed
		s.mu.Unlock()
		if len(out) > 0 || timeout == 0 {
			if out == nil {
				out = []json.RawMessage{}
			}
			s.reply(w, 200, ok(out))
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			s.reply(w, 200, ok([]json.RawMessage{}))
			return
		case <-r.Context().Done():
			return
		}
	}
}

func (s *Server) sendMessage(w http.ResponseWriter, r *http.Request, record func(int)) {
	chatID, err := strconv.ParseInt(r.Form.Get("chat_id"), 10, 64)
	text := r.Form.Get("text")
	if err != nil || text == "" {
		record(400)
		s.reply(w, 400, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: message text is empty"})
		return
	}
	if strings.EqualFold(r.Form.Get("parse_mode"), "HTML") {
		if err := CheckHTML(text); err != nil {
			record(400)
			s.reply(w, 400, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: can't parse entities: " + err.Error()})
			return
		}
	}
	if n := len(utf16.Encode([]rune(visible(text, r.Form.Get("parse_mode"))))); n > 4096 {
		record(400)
		s.reply(w, 400, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: message is too long"})
		return
	}
	m := Sent{ChatID: chatID, Text: text, ParseMode: r.Form.Get("parse_mode"), Time: time.Now()}
	m.ReplyTo, _ = strconv.Atoi(r.Form.Get("reply_to_message_id"))
	if rm := r.Form.Get("reply_markup"); rm != "" && rm != "null" {
		var mk Markup
		if err := json.Unmarshal([]byte(rm), &mk); err != nil {
			record(400)
			s.reply(w, 400, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: can't parse reply keyboard markup JSON object"})
			return
		}
		for _, row := range mk.InlineKeyboard {
			for _, b := range row {
				if n := len(b.CallbackData); n < 1 || n > 64 {
					record(400)
					s.reply(w, 400, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: BUTTON_DATA_INVALID"})
					return
				}
			}
		}
		m.Markup = &mk
	}
	s.mu.Lock()
	s.nextMsg++
	m.MessageID = s.nextMsg
	typ := s.chatType[chatID]
	s.sent = append(s.sent, m)
	s.mu.Unlock()
	if typ == "" {
		typ = "private"
		if chatID < 0 {
			typ = "supergroup"
		}
	}
	record(200)
	s.reply(w, 200, ok(map[string]any{"message_id": m.MessageID, "date": time.Now().Unix(),
		"chat": map[string]any{"id": chatID, "type": typ}, "text": text,
		"from": User{ID: BotID, IsBot: true, Name: "IMP", Username: BotUsername}.json()}))
}

// visible strips tags and decodes the entities Telegram accepts, for the
// length check.
func visible(text, mode string) string {
	if !strings.EqualFold(mode, "HTML") {
		return text
	}
	var b strings.Builder
	for i := 0; i < len(text); {
		switch text[i] {
		case '<':
			if j := strings.IndexByte(text[i:], '>'); j >= 0 {
				i += j + 1
				continue
			}
		case '&':
			if j := strings.IndexByte(text[i:], ';'); j > 0 {
				b.WriteByte('x')
				i += j + 1
				continue
			}
		}
		b.WriteByte(text[i])
		i++
	}
	return b.String()
}

var allowedTags = map[string]bool{"b": true, "strong": true, "i": true, "em": true, "u": true, "ins": true, "s": true,
	"strike": true, "del": true, "span": true, "tg-spoiler": true, "a": true, "code": true, "pre": true,
	"blockquote": true, "tg-emoji": true}

// CheckHTML applies Telegram's HTML rules: only the supported tags,
// properly nested and closed; '<', '>' and '&' only in tags and entities;
// only &lt; &gt; &amp; &quot; and numeric entities.
func CheckHTML(text string) error {
	var stack []string
	for i := 0; i < len(text); {
		switch text[i] {
		case '<':
			j := strings.IndexByte(text[i:], '>')
			if j < 0 {
				return fmt.Errorf("unclosed start tag at byte offset %d", i)
			}
			tag := text[i+1 : i+j]
			closing := strings.HasPrefix(tag, "/")
			tag = strings.TrimPrefix(tag, "/")
			name, _, _ := strings.Cut(tag, " ")
			name = strings.ToLower(name)
			if !allowedTags[name] {
				return fmt.Errorf("unsupported start tag %q at byte offset %d", name, i)
			}
			if closing {
				if len(stack) == 0 || stack[len(stack)-1] != name {
					return fmt.Errorf("unmatched end tag at byte offset %d, expected \"</%s>\", found \"</%s>\"", i, top(stack), name)
				}
				stack = stack[:len(stack)-1]
			} else {
				stack = append(stack, name)
			}
			i += j + 1
		case '>':
			return fmt.Errorf("unexpected '>' at byte offset %d", i)
		case '&':
			j := strings.IndexByte(text[i:], ';')
			if j < 0 {
				return fmt.Errorf("unexpected '&' at byte offset %d", i)
			}
			e := text[i : i+j+1]
			switch {
			case e == "&lt;" || e == "&gt;" || e == "&amp;" || e == "&quot;":
			case strings.HasPrefix(e, "&#") && len(e) > 3:
			default:
				return fmt.Errorf("unsupported entity %q at byte offset %d", e, i)
			}
			i += j + 1
		default:
			i++
		}
	}
	if len(stack) > 0 {
		return fmt.Errorf("can't find end tag corresponding to start tag \"%s\"", top(stack))
	}
	return nil
}

func top(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[len(s)-1]
}
