// Package session keeps small per-conversation state (the eligibility
// dialogue's answers, for instance) with an idle timeout. A session is
// identified by bot.Request.SessionKey (platform, chat and user).
//
// Two stores are provided: Memory, for the terminal and tests, and Bolt, an
// embedded bbolt file so that a restart loses nothing. Both satisfy Store, so
// a shared store for several replicas (Redis) can be added later without
// touching the users of this package.
package session

import (
	"context"
	"crypto/sha256"
	"time"

	"github.com/impbot/impbot/bot"
)

// DefaultIdleTimeout is how long a session lives without activity when no
// timeout is configured.
const DefaultIdleTimeout = 30 * time.Minute

// Store keeps opaque values by session key. A value expires when it has not
// been written for the idle timeout; an expired value is never returned.
// Implementations are safe for concurrent use.
type Store interface {
	// Get returns the value of key; ok is false when there is none or it
	// has expired.
	Get(ctx context.Context, key string) (val []byte, ok bool, err error)
	// Put stores val under key and restarts its idle timer.
	Put(ctx context.Context, key string, val []byte) error
	// Delete removes key (no error when absent).
	Delete(ctx context.Context, key string) error
	// Forget deletes the session of req's user in req's chat (for /forget).
	Forget(ctx context.Context, req *bot.Request) error
	// Sweep removes expired values and returns how many it removed.
	Sweep(ctx context.Context) (int, error)
}

// Option configures a store.
type Option func(*options)

type options struct {
	now func() time.Time
}

// WithClock replaces time.Now (for tests).
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

func buildOptions(opts []Option) options {
	o := options{now: time.Now}
	for _, f := range opts {
		f(&o)
	}
	return o
}

func idleOrDefault(d time.Duration) time.Duration {
	if d <= 0 {
		return DefaultIdleTimeout
	}
	return d
}

// hashKey turns a session key (which contains platform user IDs) into a
// fixed-size opaque key, so the store on disk holds no identifiers.
func hashKey(key string) []byte {
	h := sha256.Sum256([]byte("impbot-session:" + key))
	return h[:]
}

// Run sweeps s every interval until ctx is cancelled. A failed sweep is
// reported to onErr (when not nil) and retried at the next tick: expired
// sessions are never returned anyway, so a late sweep only costs space.
func Run(ctx context.Context, s Store, every time.Duration, onErr func(error)) {
	if every <= 0 {
		every = time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.Sweep(ctx); err != nil && ctx.Err() == nil && onErr != nil {
				onErr(err)
			}
		}
	}
}
