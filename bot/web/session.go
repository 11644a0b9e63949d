package web

import (
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/impbot/impbot/bot"
)

// Entry is one line of a conversation as the widget shows it. Entries are
// numbered per session (Seq); the widget merges them by number, so an entry
// received twice (a reply and a push, or a resend) is shown once.
type Entry struct {
	Seq  int64  `json:"seq"`
	From string `json:"from"` // "user", "bot" or "staff"
	// ID is the client's message id: on a user entry the message, on a bot
	// entry the message it answers.
	ID string `json:"id,omitempty"`
	// Text is what the user typed, or the label of the button pressed
	// (always shown as text, never as HTML).
	Text string `json:"text,omitempty"`
	// Replies are the bot's replies, the same objects as `chat --jsonl`
	// writes, each with its HTML.
	Replies  []WebReply         `json:"replies,omitempty"`
	Dialogue *bot.DialogueState `json:"dialogue,omitempty"`
	// HTML is a staff answer (from the handoff), rendered on the server.
	HTML string `json:"html,omitempty"`
}

// WebReply is a bot.Reply with its Markdown rendered to safe HTML.
type WebReply struct {
	bot.Reply
	HTML string `json:"html"`
}

// Bounds on what one session keeps.
const (
	maxEntries = 200 // entries kept per conversation (the oldest go first)
	maxIDs     = 500 // client message ids remembered for de-duplication
)

type session struct {
	id string

	// mu serializes the messages of one session: the duplicate check, the
	// answer and the append happen under it, so a message sent twice (a
	// resend after a reconnect, two tabs) is answered once.
	mu      sync.Mutex
	entries []Entry
	seq     int64
	done    map[string][]Entry // client id → the entries it produced
	order   []string           // ids in done, oldest first
	seen    time.Time
	lim     *rate.Limiter
	subs    map[chan Out]struct{}
	pending bool // a question is with the staff
}

func newSessionID() string {
	var b [18]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// validSessionID accepts ids of the shape newSessionID makes.
func validSessionID(s string) bool {
	if len(s) != 24 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// validClientID accepts the widget's message ids: 1–64 characters of
// [A-Za-z0-9_-].
func validClientID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// append numbers and keeps entries (caller holds mu) and returns them.
func (s *session) append(es ...Entry) []Entry {
	for i := range es {
		s.seq++
		es[i].Seq = s.seq
	}
	s.entries = append(s.entries, es...)
	if n := len(s.entries) - maxEntries; n > 0 {
		s.entries = append([]Entry(nil), s.entries[n:]...)
	}
	return es
}

// remember records what a client message produced (caller holds mu).
func (s *session) remember(id string, es []Entry) {
	if s.done == nil {
		s.done = map[string][]Entry{}
	}
	s.done[id] = es
	s.order = append(s.order, id)
	if len(s.order) > maxIDs {
		delete(s.done, s.order[0])
		s.order = s.order[1:]
	}
}

// publish sends entries to every connection of the session other than
// skip (caller holds mu). A connection too slow to take them gets them on
// its next hello.
func (s *session) publish(o Out, skip chan Out) {
	for ch := range s.subs {
		if ch == skip {
			continue
		}
		select {
		case ch <- o:
		default:
		}
	}
}

// store holds the sessions in memory. Idle sessions are dropped after ttl;
// beyond max sessions the least recently used goes first.
type store struct {
	mu   sync.Mutex
	m    map[string]*session
	ttl  time.Duration
	max  int
	rate func() *rate.Limiter
}

func newStore(ttl time.Duration, max int, rate func() *rate.Limiter) *store {
	return &store{m: map[string]*session{}, ttl: ttl, max: max, rate: rate}
}

// get returns the session id names, or a new one when id is unknown.
func (st *store) get(id string, now time.Time) *session {
	st.mu.Lock()
	defer st.mu.Unlock()
	if s := st.m[id]; s != nil && validSessionID(id) {
		s.seen = now
		return s
	}
	if len(st.m) >= st.max {
		st.evictLocked(now, true)
	}
	s := &session{id: newSessionID(), seen: now, lim: st.rate(), subs: map[chan Out]struct{}{}}
	st.m[s.id] = s
	return s
}

// lookup returns an existing session or nil.
func (st *store) lookup(id string) *session {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.m[id]
}

// sweep drops idle sessions.
func (st *store) sweep(now time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.evictLocked(now, false)
}

func (st *store) evictLocked(now time.Time, oldest bool) {
	var old *session
	for id, s := range st.m {
		if now.Sub(s.seen) > st.ttl {
			delete(st.m, id)
			continue
		}
		if old == nil || s.seen.Before(old.seen) {
			old = s
		}
	}
	if oldest && len(st.m) >= st.max && old != nil {
		delete(st.m, old.id)
	}
}

func (st *store) len() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.m)
}
