package session

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/impbot/impbot/bot"
	"github.com/impbot/impbot/bot/cluster"
)

// Record format in Redis: a magic byte, the format version, then the value.
// A replica reads every version up to its own, so a newer replica reads an
// older one's state during a rolling upgrade; a value written by a newer
// format than it knows is treated as absent (the dialogue starts over)
// rather than misread.
const (
	redisMagic   = 0xB7
	redisVersion = 1
)

// Redis is a Store in Redis, shared by every replica: keys are namespaced
// (prefix:sess:<hash>) and expire with the idle timeout (Redis removes
// them, so Sweep has nothing to do).
type Redis struct {
	r    *cluster.Redis
	idle time.Duration
	kind string
}

var _ Store = (*Redis)(nil)

// NewRedis returns a store in r whose values expire after idle without a
// write. kind separates stores that share one Redis ("sess" for the
// dialogue, others for other records).
func NewRedis(r *cluster.Redis, kind string, idle time.Duration) *Redis {
	if kind == "" {
		kind = "sess"
	}
	return &Redis{r: r, idle: idleOrDefault(idle), kind: kind}
}

func (s *Redis) key(k string) string { return s.r.Key(s.kind, hex.EncodeToString(hashKey(k))) }

// Get implements Store. When Redis is unreachable the error wraps
// bot.ErrUnavailable.
func (s *Redis) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if b := batchFrom(ctx); b != nil {
		if v, found := b.lookup(s.key(key)); found {
			if v == nil {
				return nil, false, nil
			}
			val, ok := decodeRecord(v)
			return append([]byte(nil), val...), ok, nil
		}
	}
	v, err := s.r.Client().Get(ctx, s.key(key)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err = s.r.Check(err); err != nil {
		return nil, false, fmt.Errorf("session: get: %w", err)
	}
	val, ok := decodeRecord(v)
	return val, ok, nil
}

// decodeRecord reads a stored record; ok is false for an unknown format.
func decodeRecord(v []byte) ([]byte, bool) {
	if len(v) < 2 || v[0] != redisMagic || v[1] == 0 || v[1] > redisVersion {
		return nil, false
	}
	// Version 1 is the value as is; later versions convert here.
	return v[2:], true
}

// Put implements Store: the value expires after the idle timeout.
func (s *Redis) Put(ctx context.Context, key string, val []byte) error {
	rec := make([]byte, 2+len(val))
	rec[0], rec[1] = redisMagic, redisVersion
	copy(rec[2:], val)
	if b := batchFrom(ctx); b != nil {
		b.add(batchOp{key: s.key(key), val: rec, ttl: s.idle.Milliseconds()})
		return nil
	}
	if err := s.r.Check(s.r.Client().Set(ctx, s.key(key), rec, s.idle).Err()); err != nil {
		return fmt.Errorf("session: put: %w", err)
	}
	return nil
}

// Delete implements Store.
func (s *Redis) Delete(ctx context.Context, key string) error {
	if b := batchFrom(ctx); b != nil {
		b.add(batchOp{key: s.key(key)})
		return nil
	}
	if err := s.r.Check(s.r.Client().Del(ctx, s.key(key)).Err()); err != nil {
		return fmt.Errorf("session: delete: %w", err)
	}
	return nil
}

// Forget implements Store and bot.Forgetter.
func (s *Redis) Forget(ctx context.Context, req *bot.Request) error {
	return s.Delete(ctx, req.SessionKey())
}

// Sweep implements Store: Redis expires keys itself.
func (s *Redis) Sweep(ctx context.Context) (int, error) { return 0, ctx.Err() }
