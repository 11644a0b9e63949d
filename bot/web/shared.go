package web

// Conversations shared in Redis (Config.Cluster), so a visitor's next
// request may land on any replica: each replica keeps the sessions it
// serves in memory (with their live connections and limiter) and, around
// every change, reads the conversation from Redis and writes it back, under
// a lock with a lease (bot/cluster) so two replicas never interleave one
// session's messages. The dialogue state goes through the session store as
// before.
//
// Key: <prefix>:web:<session key> (a hash of the widget's secret id),
// holding the entries, their counter and the pending handoff (magic byte,
// format version, JSON), expiring after the session TTL.
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
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/impbot/impbot/bot"
)

// Record format: a newer replica reads an older one's conversations; one of
// a newer format is treated as absent, not misread.
const (
	webMagic   = 0xB7
	webVersion = 1
	// webLockLease bounds how long a dead replica blocks a conversation.
	webLockLease = 5 * time.Second
)

func (st *store) rkey(key string) string { return st.shared.Key("web", key) }

// load reads a conversation from Redis; nil, nil when there is none.
func (st *store) load(ctx context.Context, key string) (*saved, error) {
	v, err := st.shared.Client().Get(ctx, st.rkey(key)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err = st.shared.Check(err); err != nil {
		return nil, fmt.Errorf("web: load conversation: %w", err)
	}
	if len(v) < 2 || v[0] != webMagic || v[1] == 0 || v[1] > webVersion {
		return nil, nil
	}
	var sv saved
	if err := json.Unmarshal(v[2:], &sv); err != nil {
		return nil, nil // damaged: start over rather than fail
	}
	return &sv, nil
}

// save writes a conversation to Redis (caller holds s.mu).
func (st *store) save(ctx context.Context, s *session) error {
	data, err := json.Marshal(saved{Entries: s.entries, Seq: s.seq, Pending: s.pending, Seen: s.seen})
	if err != nil {
		return fmt.Errorf("web: encode conversation: %w", err)
	}
	v := append([]byte{webMagic, webVersion}, data...)
	if err := st.shared.Check(st.shared.Client().Set(ctx, st.rkey(s.id), v, st.ttl).Err()); err != nil {
		return fmt.Errorf("web: save conversation: %w", err)
	}
	return nil
}

// refresh replaces what s holds with the conversation in Redis when that
// is newer (another replica answered since); caller holds s.mu.
func (st *store) refresh(ctx context.Context, s *session) {
	sv, err := st.load(ctx, s.id)
	if err != nil {
		// An outage is logged once by the connection; a slow Redis here.
		st.logShared("web: conversation not read from redis: going on with this replica's copy", err)
		return
	}
	if sv == nil || sv.Seq <= s.seq {
		return
	}
	s.entries, s.seq, s.pending = sv.Entries, sv.Seq, sv.Pending
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
