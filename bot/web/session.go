package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"go.etcd.io/bbolt"
	"golang.org/x/time/rate"

	"github.com/impbot/impbot/bot"
	"github.com/impbot/impbot/bot/cluster"
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
	// id is the session's key: a hash of the id the widget holds (which is
	// a bearer secret and is never stored). It names the conversation to
	// the router (chat and user id) and to the staff handoff.
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
	pending time.Time // when a question went to the staff (zero: none waiting)
	// With Redis (shared.go): gen counts the times the conversation was
	// emptied (/forget); unsynced means Redis may lack some of it (a failed
	// write, or made during an outage): the next write is whole.
	gen      int64
	unsynced bool
}

// keyOf is the session key of a widget's session id.
func keyOf(sid string) string {
	h := sha256.Sum256([]byte("impbot-web:" + sid))
	return hex.EncodeToString(h[:16])
}

// rebuildDone recovers the de-duplication map from the entries (after a
// restart): each client id maps to the entries it produced.
func (s *session) rebuildDone() {
	s.done, s.order = nil, nil
	for _, e := range s.entries {
		if e.ID == "" {
			continue
		}
		if _, ok := s.done[e.ID]; !ok {
			s.order = append(s.order, e.ID)
		}
		if s.done == nil {
			s.done = map[string][]Entry{}
		}
		s.done[e.ID] = append(s.done[e.ID], e)
	}
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

// store holds the sessions in memory, keyed by keyOf(sid). Idle sessions
// are dropped after ttl; beyond max sessions the least recently used goes
// first. With a bbolt database, sessions are also saved (a moment after
// each change, off the answer's path) and loaded at start, so
// conversations survive a restart.
type store struct {
	// shared, with several replicas, holds the conversations in Redis
	// (shared.go); the map is then this replica's working copy.
	shared *cluster.Redis
	log    *slog.Logger

	mu    sync.Mutex
	m     map[string]*session
	ttl   time.Duration
	max   int
	rate  func() *rate.Limiter
	db    *bbolt.DB
	dirty map[string]bool // keys to save (or delete, when gone from m)
}

func newStore(ttl time.Duration, max int, rate func() *rate.Limiter) *store {
	return &store{m: map[string]*session{}, ttl: ttl, max: max, rate: rate, dirty: map[string]bool{},
		log: slog.New(slog.DiscardHandler)}
}

// get returns the session sid names, or a new one (with its new sid) when
// sid is unknown.
func (st *store) get(sid string, now time.Time) (*session, string) {
	if validSessionID(sid) {
		if s := st.find(keyOf(sid), now, true); s != nil {
			return s, sid
		}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.m) >= st.max {
		st.evictLocked(now, true)
	}
	sid = newSessionID()
	s := &session{id: keyOf(sid), seen: now, lim: st.rate(), subs: map[chan Out]struct{}{}}
	st.m[s.id] = s
	return s, sid
}

// find returns the session with key from memory or, with Redis, from
// Redis (a conversation another replica served). When Redis is
// unreachable and create is set, a session the replica has not seen starts
// empty under the same key, so the visitor keeps being answered.
func (st *store) find(key string, now time.Time, create bool) *session {
	st.mu.Lock()
	s := st.m[key]
	if s != nil {
		s.seen = now
	}
	st.mu.Unlock()
	if s != nil || st.shared == nil {
		return s
	}
	ctx, cancel := sharedCtx(context.Background())
	sv, err := st.load(ctx, key)
	cancel()
	unsynced := false
	switch {
	case err != nil && !create:
		return nil
	case err != nil:
		st.logShared("web: conversation not read from redis: starting it empty on this replica", err)
		sv = &saved{}
		unsynced = true
	case sv == nil:
		return nil
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if s := st.m[key]; s != nil { // another request got it meanwhile
		return s
	}
	if len(st.m) >= st.max {
		st.evictLocked(now, true)
	}
	s = &session{id: key, entries: sv.Entries, seq: sv.Seq, pending: sv.Pending, seen: now, gen: sv.Gen,
		unsynced: unsynced, lim: st.rate(), subs: map[chan Out]struct{}{}}
	s.rebuildDone()
	st.m[key] = s
	return s
}

// lookup returns the session of a widget's sid, or nil.
func (st *store) lookup(sid string) *session {
	if !validSessionID(sid) {
		return nil
	}
	return st.find(keyOf(sid), time.Now(), true)
}

// byKey returns the session with a key, or nil.
func (st *store) byKey(key string) *session {
	return st.find(key, time.Now(), false)
}

// touch marks a session to be saved.
func (st *store) touch(key string) {
	if st.db == nil {
		return
	}
	st.mu.Lock()
	st.dirty[key] = true
	st.mu.Unlock()
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
			st.dirty[id] = true
			continue
		}
		if old == nil || s.seen.Before(old.seen) {
			old = s
		}
	}
	if oldest && len(st.m) >= st.max && old != nil {
		delete(st.m, old.id)
		st.dirty[old.id] = true
	}
}

var bucket = []byte("web_sessions")

// saved is a session as stored.
type saved struct {
	Entries []Entry   `json:"entries"`
	Seq     int64     `json:"seq"`
	Pending time.Time `json:"pending,omitzero"`
	Seen    time.Time `json:"seen"`
	Gen     int64     `json:"-"` // Redis only
}

// open loads the saved sessions that have not expired.
func (st *store) open(db *bbolt.DB, now time.Time) error {
	st.db = db
	return db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucket)
		if err != nil {
			return err
		}
		var expired [][]byte
		err = b.ForEach(func(k, v []byte) error {
			var sv saved
			if json.Unmarshal(v, &sv) != nil || now.Sub(sv.Seen) > st.ttl {
				expired = append(expired, append([]byte(nil), k...))
				return nil
			}
			s := &session{id: string(k), entries: sv.Entries, seq: sv.Seq, pending: sv.Pending, seen: sv.Seen,
				lim: st.rate(), subs: map[chan Out]struct{}{}}
			s.rebuildDone()
			st.m[s.id] = s
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range expired {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// flush saves the sessions changed since the last flush, and deletes the
// ones that are gone.
func (st *store) flush() error {
	if st.db == nil {
		return nil
	}
	st.mu.Lock()
	dirty := st.dirty
	st.dirty = map[string]bool{}
	type item struct {
		key  string
		s    *session
		seen time.Time
	}
	var items []item
	for k := range dirty {
		it := item{key: k, s: st.m[k]}
		if it.s != nil {
			it.seen = it.s.seen
		}
		items = append(items, it)
	}
	st.mu.Unlock()
	if len(items) == 0 {
		return nil
	}
	vals := make([][]byte, len(items))
	for i, it := range items {
		if it.s == nil {
			continue
		}
		it.s.mu.Lock()
		v, err := json.Marshal(saved{Entries: it.s.entries, Seq: it.s.seq, Pending: it.s.pending, Seen: it.seen})
		it.s.mu.Unlock()
		if err != nil {
			return err
		}
		vals[i] = v
	}
	return st.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucket)
		for i, it := range items {
			var err error
			if vals[i] == nil {
				err = b.Delete([]byte(it.key))
			} else {
				err = b.Put([]byte(it.key), vals[i])
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

func (st *store) len() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.m)
}
