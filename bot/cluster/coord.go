package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Claim is the state of a piece of work (an update) across replicas.
type Claim int

const (
	// Mine: this replica claimed the work and must do it, then Finish it.
	Mine Claim = iota
	// Busy: another replica is doing it right now (its claim has a lease).
	Busy
	// Done: the work was done already (a redelivery).
	Done
)

// Begin claims the work id of the given kind for lease (SET NX with a TTL).
// A replica that dies while working lets its claim expire, so a redelivery
// after lease is handled by another replica: no update is lost, and none is
// answered twice while its first handling is alive.
func (r *Redis) Begin(ctx context.Context, kind, id string, lease time.Duration) (Claim, error) {
	key := r.Key("once", kind, id)
	ok, err := r.c.SetNX(ctx, key, "p", lease).Result()
	if err = r.Check(err); err != nil {
		return Mine, fmt.Errorf("claim %s %s: %w", kind, id, err)
	}
	if ok {
		return Mine, nil
	}
	v, err := r.c.Get(ctx, key).Result()
	if errors.Is(err, redis.Nil) {
		return r.Begin(ctx, kind, id, lease) // it expired in between
	}
	if err = r.Check(err); err != nil {
		return Mine, fmt.Errorf("claim %s %s: %w", kind, id, err)
	}
	if v == "d" {
		return Done, nil
	}
	return Busy, nil
}

var holdScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == "p" then return redis.call("PEXPIRE", KEYS[1], ARGV[1]) end return 0`)

// Hold keeps a claim alive while its work lasts (renewing the lease every
// lease/3), so slow work is not taken over by another replica; stop ends
// the renewal. A replica that dies stops renewing and its claim expires.
func (r *Redis) Hold(kind, id string, lease time.Duration) (stop func()) {
	key := r.Key("once", kind, id)
	return renew(lease, func(ctx context.Context) {
		_ = r.Check(holdScript.Run(ctx, r.c, []string{key}, lease.Milliseconds()).Err())
	})
}

// renew runs extend every lease/3 (each call bounded by lease/3) until stop
// is called; stop returns once the renewal has ended.
func renew(lease time.Duration, extend func(context.Context)) (stop func()) {
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(lease / 3)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				ctx, cancel := context.WithTimeout(context.Background(), lease/3)
				extend(ctx)
				cancel()
			}
		}
	}()
	return func() { close(quit); <-done }
}

// Finish marks claimed work as done for keep (redeliveries within keep are
// recognised).
func (r *Redis) Finish(ctx context.Context, kind, id string, keep time.Duration) error {
	err := r.Check(r.c.Set(ctx, r.Key("once", kind, id), "d", keep).Err())
	if err != nil {
		return fmt.Errorf("finish %s %s: %w", kind, id, err)
	}
	return nil
}

// Abandon drops a claim whose work failed, so a redelivery is handled.
func (r *Redis) Abandon(ctx context.Context, kind, id string) {
	_ = r.Check(r.c.Del(ctx, r.Key("once", kind, id)).Err())
}

// token is a random lock or lease owner.
func token() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Compare-and-delete and compare-and-extend, so a replica never releases or
// extends a lock that expired and was taken by another.
var (
	releaseScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)
	extendScript  = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) end return 0`)
)

// Lock takes the lock name (a session, a chat) with a lease, waiting while
// another replica holds it. The lease is renewed while held, and expires by
// itself if the holder dies. unlock releases it. When Redis is unreachable
// the error wraps bot.ErrUnavailable (the caller may go on unlocked: it only
// loses the ordering between replicas, which a local lock still gives).
func (r *Redis) Lock(ctx context.Context, name string, lease time.Duration) (unlock func(), err error) {
	key := r.Key("lock", name)
	tok := token()
	wait := 5 * time.Millisecond
	for {
		ok, err := r.c.SetNX(ctx, key, tok, lease).Result()
		if err = r.Check(err); err != nil {
			return nil, fmt.Errorf("lock: %w", err)
		}
		if ok {
			break
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("lock: %w", ctx.Err())
		case <-time.After(wait):
		}
		wait = min(wait*2, 100*time.Millisecond)
	}
	stop := renew(lease, func(ctx context.Context) {
		_ = r.Check(extendScript.Run(ctx, r.c, []string{key}, tok, lease.Milliseconds()).Err())
	})
	return func() {
		stop()
		rctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = r.Check(releaseScript.Run(rctx, r.c, []string{key}, tok).Err())
	}, nil
}

// Lead runs work while this replica holds the leader lease name, and stands
// by while another does. The lease is renewed every lease/3; when a renewal
// fails (Redis gone, or the lease lost) work's context is cancelled. A
// leader that dies stops renewing, and a standby takes over within about
// lease + lease/3. Lead returns when ctx ends.
func (r *Redis) Lead(ctx context.Context, name string, lease time.Duration, work func(ctx context.Context)) {
	key := r.Key("leader", name)
	tok := token()
	tick := lease / 3
	for ctx.Err() == nil {
		ok, err := r.c.SetNX(ctx, key, tok, lease).Result()
		if r.Check(err) != nil || !ok {
			sleepCtx(ctx, tick)
			continue
		}
		r.log.Info("leader lease taken", "lease", name)
		wctx, cancel := context.WithCancel(ctx)
		finished := make(chan struct{})
		go func() {
			defer close(finished)
			work(wctx)
		}()
		t := time.NewTicker(tick)
	renew:
		for {
			select {
			case <-finished:
				break renew
			case <-t.C:
				ectx, c2 := context.WithTimeout(ctx, tick)
				n, err := extendScript.Run(ectx, r.c, []string{key}, tok, lease.Milliseconds()).Int()
				c2()
				if r.Check(err) != nil || n == 0 {
					r.log.Warn("leader lease lost: standing by", "lease", name)
					break renew
				}
			}
		}
		t.Stop()
		cancel()
		<-finished
		rctx, c3 := context.WithTimeout(context.Background(), time.Second)
		_ = releaseScript.Run(rctx, r.c, []string{key}, tok).Err()
		c3()
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

// bucketScript is a token bucket kept in a hash {t: tokens, ts: ms}, timed by
// the Redis server's clock so replicas' clocks do not matter. It takes one
// token and returns 0, or returns how many ms until one is available.
var bucketScript = redis.NewScript(`
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = redis.call("TIME")
local ms = now[1] * 1000 + math.floor(now[2] / 1000)
local h = redis.call("HMGET", KEYS[1], "t", "ts")
local tokens = tonumber(h[1])
local ts = tonumber(h[2])
if tokens == nil then tokens = burst; ts = ms end
tokens = math.min(burst, tokens + (ms - ts) * rate / 1000)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) * 1000 / rate) end
redis.call("HSET", KEYS[1], "t", tostring(tokens), "ts", ms)
redis.call("PEXPIRE", KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return wait
`)

// Take takes one token from the shared bucket name (rate per second, burst),
// waiting until one is free. Every replica that takes from the same name
// shares the one bucket, so together they stay under the limit.
func (r *Redis) Take(ctx context.Context, name string, perSecond float64, burst int) error {
	if perSecond <= 0 {
		return nil
	}
	key := r.Key("bucket", name)
	for {
		ms, err := bucketScript.Run(ctx, r.c, []string{key}, perSecond, max(burst, 1)).Int64()
		if err = r.Check(err); err != nil {
			return fmt.Errorf("rate bucket: %w", err)
		}
		if ms <= 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(ms) * time.Millisecond):
		}
	}
}

// Lease is a lease held by this replica (Claim), renewed until Release or
// until it is lost.
type Lease struct {
	// Lost is closed when the lease is no longer held: lost (a renewal
	// failed: Redis gone, or the lease expired and another took it) or
	// released.
	Lost <-chan struct{}
	stop func()
}

// Release gives the lease up (another replica may take it at once).
// Calling it twice is fine.
func (l *Lease) Release() { l.stop() }

// Claim tries once to take the lease name (SET NX with a TTL) and, if it
// got it, renews it every lease/3 until Release or until a renewal fails.
// It returns nil, nil when another replica holds it. A replica that dies
// stops renewing, and the lease is free after at most lease.
func (r *Redis) Claim(ctx context.Context, name string, lease time.Duration) (*Lease, error) {
	key := r.Key("lease", name)
	tok := token()
	ok, err := r.c.SetNX(ctx, key, tok, lease).Result()
	if err = r.Check(err); err != nil {
		return nil, fmt.Errorf("claim %s: %w", name, err)
	}
	if !ok {
		return nil, nil
	}
	lost := make(chan struct{})
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(lost)
		tick := time.NewTicker(lease / 3)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				rctx, cancel := context.WithTimeout(context.Background(), time.Second)
				_ = releaseScript.Run(rctx, r.c, []string{key}, tok).Err()
				cancel()
				return
			case <-tick.C:
				ectx, cancel := context.WithTimeout(context.Background(), lease/3)
				n, err := extendScript.Run(ectx, r.c, []string{key}, tok, lease.Milliseconds()).Int()
				cancel()
				if r.Check(err) != nil || n == 0 {
					r.log.Warn("lease lost", "lease", name)
					return
				}
			}
		}
	}()
	var once sync.Once
	return &Lease{Lost: lost, stop: func() {
		once.Do(func() { close(quit) })
		<-done
	}}, nil
}

// Members keeps this replica in the group name (a heartbeat with a TTL of
// ttl, to call more often than that) and returns how many replicas are in
// it, itself included. A replica that stops calling drops out after ttl.
func (r *Redis) Members(ctx context.Context, name, self string, ttl time.Duration) (int, error) {
	key := r.Key("members", name)
	var card *redis.IntCmd
	_, err := r.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		now, _ := r.c.Time(ctx).Result()
		if now.IsZero() {
			now = time.Now()
		}
		p.ZAdd(ctx, key, redis.Z{Score: float64(now.Add(ttl).UnixMilli()), Member: self})
		p.ZRemRangeByScore(ctx, key, "-inf", fmt.Sprint(now.UnixMilli()))
		p.PExpire(ctx, key, 2*ttl)
		card = p.ZCard(ctx, key)
		return nil
	})
	if err = r.Check(err); err != nil {
		return 0, fmt.Errorf("members %s: %w", name, err)
	}
	return int(card.Val()), nil
}
