package service

// Discord shards claimed through Redis leases: with sessions.backend: redis
// and discord.shard_ids empty, each replica runs the shards whose lease it
// holds, about an equal share each (the shard count divided by the
// replicas alive, rounded up; replicas show they are alive with a
// heartbeat in Redis). A replica that dies stops renewing its leases and
// the others take its shards over within a few seconds; a replica that
// joins gets its share as the others give up what is above theirs.

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/impbot/impbot/bot/cluster"
	"github.com/impbot/impbot/bot/discord"
)

// Shard lease timing: a dead replica's shards move within about
// shardLease + shardEvery.
const (
	shardLease = 6 * time.Second
	shardEvery = time.Second
)

type heldShard struct {
	lease  *cluster.Lease // nil while Redis is unreachable (the shard goes on)
	cancel context.CancelFunc
	done   chan struct{}
}

// shardClaimer runs the shards this replica holds a lease for.
type shardClaimer struct {
	r     *cluster.Redis
	count int
	group string // names the leases: a hash of the bot token
	self  string // this replica, in the heartbeat group
	log   *slog.Logger
	// lease is how long a claimed shard stays this replica's without a
	// renewal; every is how often leases are renewed and free shards
	// looked for (shardLease and shardEvery).
	lease, every time.Duration
	// run runs shard id until ctx ends.
	run func(ctx context.Context, id int) error

	mu   sync.Mutex
	held map[int]*heldShard
}

func newShardClaimer(r *cluster.Redis, token string, count int, log *slog.Logger, run func(ctx context.Context, id int) error) *shardClaimer {
	sum := sha256.Sum256([]byte("impbot-discord-token:" + token))
	var b [8]byte
	_, _ = rand.Read(b[:])
	return &shardClaimer{r: r, count: count, group: "discord-shards:" + hex.EncodeToString(sum[:6]),
		self: hex.EncodeToString(b[:]), log: log, lease: shardLease, every: shardEvery, run: run, held: map[int]*heldShard{}}
}

// Held returns the shards this replica runs now, in order.
func (c *shardClaimer) Held() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ids []int
	for id := range c.held {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	return ids
}

// Run claims and runs shards until ctx ends, then stops them and gives
// their leases up.
func (c *shardClaimer) Run(ctx context.Context) error {
	t := time.NewTicker(c.every)
	defer t.Stop()
	defer c.stopAll()
	for {
		c.step(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (c *shardClaimer) start(ctx context.Context, id int, l *cluster.Lease) {
	sctx, cancel := context.WithCancel(ctx)
	h := &heldShard{lease: l, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(h.done)
		if err := c.run(sctx, id); err != nil && sctx.Err() == nil {
			c.log.Error("discord shard stopped", "shard", id, "err", err)
		}
	}()
	c.mu.Lock()
	c.held[id] = h
	c.mu.Unlock()
	c.log.Info("discord shard claimed", "shard", id, "shards", c.count)
}

func (c *shardClaimer) stop(id int) {
	c.mu.Lock()
	h := c.held[id]
	delete(c.held, id)
	c.mu.Unlock()
	if h == nil {
		return
	}
	h.cancel()
	<-h.done
	if h.lease != nil {
		h.lease.Release()
	}
}

func (c *shardClaimer) stopAll() {
	for _, id := range c.Held() {
		c.stop(id)
	}
}

func (c *shardClaimer) leaseName(id int) string { return c.group + ":" + strconv.Itoa(id) }

// step keeps the held shards in line with the leases and this replica's
// share.
func (c *shardClaimer) step(ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	for _, id := range c.Held() {
		c.mu.Lock()
		h := c.held[id]
		c.mu.Unlock()
		select {
		case <-h.done: // the shard gave up (a fatal error): let another try
			c.stop(id)
			continue
		default:
		}
		if h.lease == nil {
			// Kept through a Redis outage: claim it again, or give it up
			// if another replica has it now.
			l, err := c.r.Claim(ctx, c.leaseName(id), c.lease)
			switch {
			case err != nil:
			case l == nil:
				c.log.Warn("discord shard held by another replica after the redis outage: stopping it here", "shard", id)
				c.stop(id)
			default:
				c.mu.Lock()
				h.lease = l
				c.mu.Unlock()
			}
			continue
		}
		select {
		case <-h.lease.Lost:
			if !c.r.Up() {
				// Redis is gone: nobody can take the shard; keep serving.
				c.mu.Lock()
				h.lease = nil
				c.mu.Unlock()
				continue
			}
			c.log.Warn("discord shard lease lost: stopping the shard here", "shard", id)
			h.lease = nil
			c.stop(id)
		default:
		}
	}
	n, err := c.r.Members(ctx, c.group, c.self, 3*c.every+c.lease/2)
	if err != nil || n < 1 {
		return // keep what is held until Redis answers
	}
	fair := (c.count + n - 1) / n
	held := c.Held()
	for len(held) > fair {
		id := held[len(held)-1]
		c.log.Info("discord shard given up for another replica", "shard", id, "replicas", n)
		c.stop(id)
		held = held[:len(held)-1]
	}
	// Try the free shards, starting at a place of this replica's own so
	// replicas starting together do not all race for the same ones.
	off := int(c.self[0]) % c.count
	for i := 0; i < c.count && len(held) < fair; i++ {
		id := (off + i) % c.count
		c.mu.Lock()
		_, mine := c.held[id]
		c.mu.Unlock()
		if mine {
			continue
		}
		l, err := c.r.Claim(ctx, c.leaseName(id), c.lease)
		if err != nil {
			return
		}
		if l != nil {
			c.start(ctx, id, l)
			held = append(held, id)
		}
	}
}

// claimedDiscord is the Discord adapter of a replica whose shards are
// claimed through Redis.
type claimedDiscord struct {
	c *shardClaimer

	mu  sync.Mutex
	ads map[int]*discord.Adapter
}

func newClaimedDiscord(r *cluster.Redis, base discord.Config, count int, a *App) *claimedDiscord {
	d := &claimedDiscord{ads: map[int]*discord.Adapter{}}
	d.c = newShardClaimer(r, base.Token, count, a.Log, func(ctx context.Context, id int) error {
		sc := base
		sc.ShardID, sc.ShardCount = id, count
		sc.SkipCommands = id != 0 // the holder of shard 0 registers the commands (idempotent)
		sc.Log = base.Log.With("shard", id)
		ad, err := discord.New(sc, a.Handler)
		if err != nil {
			return fmt.Errorf("discord shard %d: %w", id, err)
		}
		d.mu.Lock()
		d.ads[id] = ad
		d.mu.Unlock()
		defer func() {
			d.mu.Lock()
			delete(d.ads, id)
			d.mu.Unlock()
		}()
		return ad.Run(ctx)
	})
	return d
}

func (d *claimedDiscord) Name() string { return discord.Platform }

func (d *claimedDiscord) Run(ctx context.Context) error { return d.c.Run(ctx) }

// Ready is nil when every shard this replica runs is connected (a replica
// running none is ready: the others serve Discord).
func (d *claimedDiscord) Ready() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var errs []error
	for id, ad := range d.ads {
		if err := ad.Ready(); err != nil {
			errs = append(errs, fmt.Errorf("shard %d: %w", id, err))
		}
	}
	return errors.Join(errs...)
}
