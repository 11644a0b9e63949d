package web

// Conversations shared in Redis (Config.Cluster), so a visitor's next
// request may land on any replica: each replica keeps the sessions it
// serves in memory (with their live connections and limiter) and, around
// every change, reads the conversation from Redis and writes it back, under
// a lock with a lease (bot/cluster) so two replicas never interleave one
// session's messages. The dialogue state goes through the session store as
// before.
//
// Keys: <prefix>:web:<session key> (a hash of the widget's secret id) and
// <prefix>:web:<session key>:e (below), expiring after the session TTL.
//
// Redis unreachable: the replica goes on with what it holds in memory (a
// visitor it has not seen starts an empty conversation under the same id)
// and answers as usual; the conversation is written again once Redis is
// back.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/impbot/impbot/bot"
)

// Record format: a newer replica reads an older one's conversations; one of
// a newer format is treated as absent, not misread.
const (
	webVersion = 1
	// webLockLease bounds how long a dead replica blocks a conversation.
	webLockLease = 5 * time.Second
)

// A conversation in Redis is two keys, so a change writes only the new
// entries and a replica catches up by reading only those it lacks:
//
//	<prefix>:web:<key>    hash: v (format), seq (entries numbered so far),
//	                      gen (bumped when /forget empties it), pending
//	                      (a handoff waiting: unix ms, 0 none)
//	<prefix>:web:<key>:e  list of the last maxEntries entries (JSON)
func (st *store) rkey(key string) string  { return st.shared.Key("web", key) }
func (st *store) rlist(key string) string { return st.shared.Key("web", key, "e") }

// meta is a conversation's hash in Redis; ok is false when there is none
// (or it is of a newer format).
type meta struct {
	seq, gen, pending int64
	ok                bool
}

func (st *store) readMeta(ctx context.Context, key string) (meta, error) {
	vals, err := st.shared.Client().HMGet(ctx, st.rkey(key), "v", "seq", "gen", "pending").Result()
	if err = st.shared.Check(err); err != nil {
		return meta{}, fmt.Errorf("web: load conversation: %w", err)
	}
	return parseMeta(vals), nil
}

func parseMeta(vals []any) meta {
	if len(vals) < 4 {
		return meta{}
	}
	num := func(v any) (int64, bool) {
		s, ok := v.(string)
		if !ok {
			return 0, false
		}
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil
	}
	v, ok := num(vals[0])
	if !ok || v < 1 || v > webVersion {
		return meta{}
	}
	m := meta{ok: true}
	m.seq, _ = num(vals[1])
	m.gen, _ = num(vals[2])
	m.pending, _ = num(vals[3])
	return m
}

// snapshot reads the counters and every entry in one transaction, so they
// agree even while another replica writes.
func (st *store) snapshot(ctx context.Context, key string) (meta, []Entry, error) {
	var hm *redis.SliceCmd
	var lr *redis.StringSliceCmd
	_, err := st.shared.Client().TxPipelined(ctx, func(p redis.Pipeliner) error {
		hm = p.HMGet(ctx, st.rkey(key), "v", "seq", "gen", "pending")
		lr = p.LRange(ctx, st.rlist(key), 0, -1)
		return nil
	})
	if err = st.shared.Check(err); err != nil {
		return meta{}, nil, fmt.Errorf("web: load conversation: %w", err)
	}
	m := parseMeta(hm.Val())
	if !m.ok {
		return m, nil, nil
	}
	return m, decodeEntries(lr.Val()), nil
}

func decodeEntries(raws []string) []Entry {
	es := make([]Entry, 0, len(raws))
	for _, r := range raws {
		var e Entry
		if json.Unmarshal([]byte(r), &e) == nil {
			es = append(es, e)
		}
	}
	return es
}

// tail reads the entries after seq from, when they are the last n of the
// list: ok is false when the list moved on meanwhile (then read a
// snapshot).
func (st *store) tail(ctx context.Context, key string, from, n int64) (es []Entry, ok bool, err error) {
	raws, err := st.shared.Client().LRange(ctx, st.rlist(key), -n, -1).Result()
	if err = st.shared.Check(err); err != nil {
		return nil, false, fmt.Errorf("web: load conversation: %w", err)
	}
	es = decodeEntries(raws)
	for i, e := range es {
		if e.Seq != from+int64(i)+1 {
			return nil, false, nil
		}
	}
	return es, int64(len(es)) == n, nil
}

// load reads a whole conversation from Redis; nil, nil when there is none.
func (st *store) load(ctx context.Context, key string) (*saved, error) {
	m, es, err := st.snapshot(ctx, key)
	if err != nil || !m.ok {
		return nil, err
	}
	return &saved{Entries: es, Seq: m.seq, Gen: m.gen, Pending: fromMS(m.pending)}, nil
}

func fromMS(ms int64) time.Time {
	if ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// save writes the entries added since the last save (or, with full, the
// whole conversation) and the counters, in one transaction; caller holds
// s.mu. After a failed save the next one is full.
func (st *store) save(ctx context.Context, s *session, added []Entry, full bool) error {
	full = full || s.unsynced
	es := added
	if full {
		es = s.entries
	}
	vals := make([]any, 0, len(es))
	for _, e := range es {
		b, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("web: encode conversation: %w", err)
		}
		vals = append(vals, b)
	}
	var pending int64
	if !s.pending.IsZero() {
		pending = s.pending.UnixMilli()
	}
	k, l := st.rkey(s.id), st.rlist(s.id)
	_, err := st.shared.Client().TxPipelined(ctx, func(p redis.Pipeliner) error {
		if full {
			p.Del(ctx, l)
		}
		if len(vals) > 0 {
			p.RPush(ctx, l, vals...)
			p.LTrim(ctx, l, -maxEntries, -1)
		}
		p.HSet(ctx, k, "v", webVersion, "seq", s.seq, "gen", s.gen, "pending", pending)
		p.PExpire(ctx, k, st.ttl)
		p.PExpire(ctx, l, st.ttl)
		// Replicas with a live connection of this visitor push the change.
		p.Publish(ctx, st.shared.Key("web-push"), s.id)
		return nil
	})
	if err = st.shared.Check(err); err != nil {
		s.unsynced = true
		return fmt.Errorf("web: save conversation: %w", err)
	}
	s.unsynced = false
	return nil
}

// refresh brings s up to date with Redis when another replica changed the
// conversation since (reading only the entries it lacks); caller holds
// s.mu.
func (st *store) refresh(ctx context.Context, s *session) {
	m, err := st.readMeta(ctx, s.id)
	if err != nil {
		// An outage is logged once by the connection; a slow Redis here.
		st.logShared("web: conversation not read from redis: going on with this replica's copy", err)
		s.unsynced = true
		return
	}
	switch {
	case !m.ok:
		// Gone from Redis (a Redis restarted empty): write it whole next.
		s.unsynced = s.unsynced || s.seq > 0
		return
	case m.seq == s.seq && m.gen == s.gen && !s.unsynced:
		return // up to date
	}
	var es []Entry
	done := false
	if m.gen == s.gen && !s.unsynced && m.seq > s.seq && m.seq-s.seq <= maxEntries {
		// Only the entries added elsewhere.
		var more []Entry
		if more, done, err = st.tail(ctx, s.id, s.seq, m.seq-s.seq); done {
			es = append(append([]Entry(nil), s.entries...), more...)
			if n := len(es) - maxEntries; n > 0 {
				es = es[n:]
			}
		}
	}
	if err == nil && !done {
		// Emptied elsewhere (/forget), far behind, diverged during an
		// outage, or written meanwhile: Redis's copy wins.
		if m, es, err = st.snapshot(ctx, s.id); err == nil && !m.ok {
			s.unsynced = s.unsynced || s.seq > 0
			return
		}
	}
	if err != nil {
		st.logShared("web: conversation not read from redis: going on with this replica's copy", err)
		s.unsynced = true
		return
	}
	s.entries, s.seq, s.gen, s.pending, s.unsynced = es, m.seq, m.gen, fromMS(m.pending), false
	s.rebuildDone()
}

// lockShared takes the conversation's lock across replicas (nothing to do
// without Redis). When Redis is unreachable it goes on without it.
func (st *store) lockShared(ctx context.Context, key string) func() {
	if st.shared == nil {
		return func() {}
	}
	lctx, cancel := context.WithTimeout(ctx, 2*webLockLease)
	defer cancel()
	unlock, err := st.shared.Lock(lctx, "web:"+key, webLockLease)
	if err != nil {
		st.logShared("web: conversation lock unavailable: going on without it", err)
		return func() {}
	}
	return unlock
}

// sharedCtx bounds the Redis work of one request.
func sharedCtx(parent context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(parent), 2*time.Second)
}

// logShared logs a Redis failure: at debug level during an outage (the
// connection logs the outage once, and every message would repeat it),
// as a warning otherwise.
func (st *store) logShared(msg string, err error) {
	if errors.Is(err, bot.ErrUnavailable) {
		st.log.Debug(msg, "err", err)
		return
	}
	st.log.Warn(msg, "err", err)
}

// pushLoop follows the changes other replicas make to conversations (a
// staff answer delivered through another replica, the visitor's other tab
// there) and pushes them to this replica's live connections, until the
// server closes. go-redis resubscribes by itself after an outage.
func (s *Server) pushLoop() {
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-s.closed; cancel() }()
	ps := s.sessions.shared.Client().Subscribe(ctx, s.sessions.shared.Key("web-push"))
	defer ps.Close()
	// Wait for the subscription's confirmation (tests wait for pushReady);
	// with Redis down at start, retry until it is back.
	for {
		if _, err := ps.Receive(ctx); err == nil {
			break
		}
		if sleepCtx(ctx, time.Second); ctx.Err() != nil {
			return
		}
	}
	close(s.pushReady)
	ch := ps.Channel()
	for {
		select {
		case <-ctx.Done():
			return
		case msg, ok := <-ch:
			if !ok {
				return
			}
			s.pushed(msg.Payload)
		}
	}
}

// pushed sends a conversation's new entries to this replica's live
// connections of it (nothing when this replica wrote them: it is current).
func (s *Server) pushed(key string) {
	s.sessions.mu.Lock()
	sess := s.sessions.m[key]
	s.sessions.mu.Unlock()
	if sess == nil {
		return
	}
	sess.mu.Lock()
	defer sess.mu.Unlock()
	if len(sess.subs) == 0 {
		return
	}
	seq, gen := sess.seq, sess.gen
	ctx, cancel := sharedCtx(context.Background())
	s.sessions.refresh(ctx, sess)
	cancel()
	switch {
	case sess.gen != gen:
		sess.publish(Out{Type: "entries", Entries: append([]Entry(nil), sess.entries...), Reset: true}, nil)
	case sess.seq > seq:
		var es []Entry
		for _, e := range sess.entries {
			if e.Seq > seq {
				es = append(es, e)
			}
		}
		sess.publish(Out{Type: "entries", Entries: es}, nil)
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
