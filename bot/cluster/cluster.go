// Package cluster is what several impbot replicas share through Redis: the
// connection (with its health, for /readyz and the metrics), keys in one
// namespace, and the coordination between replicas: update deduplication,
// per-session locks with a lease, a leader lease and shared token buckets.
// Redis is the standard shared store for chat-bot state (Rasa's tracker and
// lock stores, Botpress's cluster mode); there is no protocol between
// replicas of our own.
//
// A single-machine deployment does not use this package at all.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/impbot/impbot/bot"
)

// DefaultPrefix namespaces every key impbot writes.
const DefaultPrefix = "impbot"

// Options configure a connection.
type Options struct {
	// URL is redis://[user[:password]@]host:port[/db] or rediss:// (TLS).
	URL string
	// Password, when not empty, replaces the URL's (it comes from the
	// environment; it is never logged).
	Password string
	// Prefix namespaces the keys (default "impbot"): several bots can share
	// one Redis.
	Prefix string
	// Timeout bounds one command (default 1s): when Redis is gone the bot
	// degrades quickly rather than making users wait.
	Timeout time.Duration
	Log     *slog.Logger
}

// Redis is a connection to the shared store. It is safe for concurrent use.
type Redis struct {
	c        *redis.Client
	prefix   string
	redacted string
	log      *slog.Logger

	down    atomic.Bool
	errs    atomic.Uint64
	outages atomic.Uint64
	lastErr atomic.Pointer[string]
}

// Open parses the options and returns a client; it does not connect (the
// first command does, and a Redis that is down at start only degrades).
func Open(o Options) (*Redis, error) {
	if o.URL == "" {
		return nil, errors.New("sessions.redis.url is empty")
	}
	ro, err := redis.ParseURL(o.URL)
	if err != nil {
		return nil, fmt.Errorf("sessions.redis.url %s: %w", Redact(o.URL), scrub(err, o.URL))
	}
	if o.Password != "" {
		ro.Password = o.Password
	}
	if o.Timeout <= 0 {
		o.Timeout = time.Second
	}
	ro.DialTimeout = o.Timeout
	ro.ReadTimeout = o.Timeout
	ro.WriteTimeout = o.Timeout
	ro.PoolSize = 64
	ro.PoolTimeout = 4 * o.Timeout
	ro.MaxRetries = 1
	// One dial per attempt: go-redis would otherwise dial 5 times 100 ms
	// apart, so each command took ~1 s against a Redis that refuses
	// connections (and a reply ~4 s) before the bot degraded. The command
	// is still retried once (MaxRetries).
	ro.DialerRetries = 1
	ro.MinRetryBackoff = 10 * time.Millisecond
	ro.MaxRetryBackoff = 50 * time.Millisecond
	ro.ContextTimeoutEnabled = true
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	quietOnce.Do(func() { redis.SetLogger(quiet{}) })
	return &Redis{c: redis.NewClient(ro), prefix: o.Prefix, redacted: Redact(o.URL), log: o.Log}, nil
}

// quiet drops go-redis's own log lines (dial failures while Redis is down,
// one per attempt): the outage is logged once by Check, and counted.
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

var quietOnce sync.Once

// Redact returns the URL without its password (for logs and errors).
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	return u.String()
}

// scrub removes the URL (and so its password) from a parse error.
func scrub(err error, raw string) error {
	return errors.New(strings.ReplaceAll(err.Error(), raw, Redact(raw)))
}

// Client is the underlying go-redis client.
func (r *Redis) Client() *redis.Client { return r.c }

// String is the redacted URL.
func (r *Redis) String() string { return r.redacted }

// Key joins the namespace and parts: impbot:sess:…
func (r *Redis) Key(parts ...string) string {
	return r.prefix + ":" + strings.Join(parts, ":")
}

// Close closes the connection pool.
func (r *Redis) Close() error { return r.c.Close() }

// Check records the outcome of a command and returns err, wrapped with
// bot.ErrUnavailable when Redis could not be reached (a network error, a
// timeout, a server that is loading or read-only), so callers can degrade.
// redis.Nil (no such key) is not a failure.
func (r *Redis) Check(err error) error { return r.check(err, false) }

// check is Check; a timeout marks Redis down only when timeoutDown is set
// (the health ping): under load a slow command is not an outage.
func (r *Redis) check(err error, timeoutDown bool) error {
	if err == nil || errors.Is(err, redis.Nil) {
		if err == nil && r.down.CompareAndSwap(true, false) {
			r.log.Info("redis is back", "redis", r.redacted)
		}
		return err
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	r.errs.Add(1)
	if !unreachable(err) {
		return err
	}
	if !timeoutDown && timeout(err) {
		return fmt.Errorf("%w: %w", bot.ErrUnavailable, err)
	}
	msg := err.Error()
	r.lastErr.Store(&msg)
	if r.down.CompareAndSwap(false, true) {
		r.outages.Add(1)
		r.log.Warn("redis unreachable: degrading (FAQ answers go on, dialogues pause)", "redis", r.redacted, "err", msg)
	}
	return fmt.Errorf("%w: %w", bot.ErrUnavailable, err)
}

func timeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, redis.ErrPoolTimeout) ||
		(errors.As(err, &ne) && ne.Timeout()) || strings.Contains(err.Error(), "i/o timeout")
}

func unreachable(err error) bool {
	var ne net.Error
	switch {
	case errors.As(err, &ne), errors.Is(err, context.DeadlineExceeded), errors.Is(err, redis.ErrClosed),
		errors.Is(err, redis.ErrPoolTimeout):
		return true
	}
	s := err.Error()
	for _, p := range []string{"LOADING", "READONLY", "MASTERDOWN", "connection refused", "EOF", "broken pipe", "connection reset", "i/o timeout"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// Ping checks the connection (and records the outcome).
func (r *Redis) Ping(ctx context.Context) error {
	return r.check(r.c.Ping(ctx).Err(), true)
}

// Watch pings every interval until ctx ends, so the health follows Redis
// even while no user writes.
func (r *Redis) Watch(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		pctx, cancel := context.WithTimeout(ctx, every)
		_ = r.Ping(pctx)
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Ready is nil while Redis answers, else why not (for /readyz).
func (r *Redis) Ready() error {
	if !r.down.Load() {
		return nil
	}
	msg := "unreachable"
	if p := r.lastErr.Load(); p != nil {
		msg = *p
	}
	return fmt.Errorf("redis %s: %s (degraded: FAQ answers go on, dialogues pause)", r.redacted, msg)
}

// Up reports whether the last command reached Redis.
func (r *Redis) Up() bool { return !r.down.Load() }

// Errors counts failed commands; Outages counts transitions to down.
func (r *Redis) Errors() uint64  { return r.errs.Load() }
func (r *Redis) Outages() uint64 { return r.outages.Load() }
