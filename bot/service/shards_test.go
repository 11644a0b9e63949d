package service

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/impbot/impbot/bot/cluster"
	"github.com/impbot/impbot/bot/discord/discordtest"
	"github.com/impbot/impbot/bot/redistest"
)

// shardBoard records which replica runs which shard, and any shard run by
// two replicas at once.
type shardBoard struct {
	mu      sync.Mutex
	by      map[int]string
	doubled []string
}

func (b *shardBoard) runner(name string) func(ctx context.Context, id int) error {
	return func(ctx context.Context, id int) error {
		b.mu.Lock()
		if other, ok := b.by[id]; ok {
			b.doubled = append(b.doubled, fmt.Sprintf("shard %d on %s and %s", id, other, name))
		}
		b.by[id] = name
		b.mu.Unlock()
		<-ctx.Done()
		b.mu.Lock()
		if b.by[id] == name {
			delete(b.by, id)
		}
		b.mu.Unlock()
		return nil
	}
}

func (b *shardBoard) count(name string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, h := range b.by {
		if h == name {
			n++
		}
	}
	return n
}

func waitShards(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestShardsClaimedThroughRedis: replicas share the shards through leases
// in Redis: one alone runs them all, two split them evenly, and when one
// stops or dies (its leases left to expire) the other takes its shards
// over; a shard never runs on two replicas at once.
func TestShardsClaimedThroughRedis(t *testing.T) {
	// Waiting on leases, not computing: it overlaps with the others.
	t.Parallel()
	const lease, every = 1500 * time.Millisecond, 200 * time.Millisecond
	rds := redistest.Start(t)
	board := &shardBoard{by: map[int]string{}}
	const count = 4
	type replica struct {
		c      *shardClaimer
		r      *cluster.Redis
		cancel context.CancelFunc
		done   chan struct{}
	}
	startReplica := func(name string) *replica {
		r, err := cluster.Open(cluster.Options{URL: rds.URL(), Prefix: "shardbot", Timeout: 500 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		ctx, cancel := context.WithCancel(context.Background())
		rep := &replica{c: newShardClaimer(r, "tok", count, slog.New(slog.DiscardHandler), board.runner(name)),
			r: r, cancel: cancel, done: make(chan struct{})}
		rep.c.lease, rep.c.every = lease, every
		go func() { defer close(rep.done); rep.c.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-rep.done })
		return rep
	}
	a := startReplica("a")
	waitShards(t, "a to run all 4 shards", func() bool { return board.count("a") == count })
	b := startReplica("b")
	waitShards(t, "a and b to run 2 shards each", func() bool { return board.count("a") == 2 && board.count("b") == 2 })
	if got := append(a.c.Held(), b.c.Held()...); len(got) != count {
		t.Fatalf("held %v", got)
	}

	// b stops (a rolling restart): a takes its shards.
	b.cancel()
	<-b.done
	waitShards(t, "a to take b's shards", func() bool { return board.count("a") == count })

	// c joins, then dies: its connection to Redis is cut before it stops,
	// so its leases are not given up and must expire.
	c := startReplica("c")
	waitShards(t, "a and c to run 2 shards each", func() bool { return board.count("a") == 2 && board.count("c") == 2 })
	c.r.Close()
	c.cancel()
	<-c.done
	died := time.Now()
	waitShards(t, "a to take the dead replica's shards", func() bool { return board.count("a") == count })
	t.Logf("shards of a dead replica taken over in %v (lease %v)", time.Since(died).Round(10*time.Millisecond), lease)

	board.mu.Lock()
	defer board.mu.Unlock()
	if len(board.doubled) > 0 {
		t.Fatalf("a shard ran on two replicas at once: %v", board.doubled)
	}
}

// TestDiscordShardsClaimedServe: `impbot serve` with the redis backend and
// discord.shards but no shard_ids claims the shards through Redis and runs
// them against the fake Discord: every shard identifies, the slash
// commands are registered once (by the holder of shard 0), /readyz is 200.
func TestDiscordShardsClaimedServe(t *testing.T) {
	t.Parallel()
	rds := redistest.Start(t)
	fake := discordtest.NewServer(t)
	cfg := DefaultConfig()
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.Sessions.Path = filepath.Join(t.TempDir(), "sessions.db")
	cfg.Sessions.Backend = "redis"
	cfg.Sessions.Redis.URL = rds.URL()
	cfg.Sessions.Redis.Prefix = "shardserve"
	cfg.Discord = DiscordConfig{Enabled: true, Token: discordtest.Token, APIURL: fake.URL, ApplicationID: "42", Shards: "2"}
	// The shards are not about the knowledge: a small one builds faster.
	cfg.Knowledge.Dir = filepath.Join(t.TempDir(), "knowledge")
	opsSmallKnowledge(t, cfg.Knowledge.Dir, opsSmallIDs...)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	errc := make(chan error, 1)
	go func() { errc <- serve(ctx, cfg, slog.New(slog.DiscardHandler), ready) }()
	defer func() {
		cancel()
		select {
		case err := <-errc:
			if err != nil {
				t.Errorf("serve returned %v", err)
			}
		case <-time.After(patience):
			t.Error("serve did not stop")
		}
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-errc:
		t.Fatal("serve:", err)
	case <-time.After(patience):
		t.Fatal("serve did not start")
	}
	waitShards(t, "both shards to identify", func() bool {
		seen := map[int]bool{}
		for _, id := range fake.Identifies() {
			if len(id.Shard) == 2 && id.Shard[1] == 2 {
				seen[id.Shard[0]] = true
			}
		}
		return seen[0] && seen[1]
	})
	waitShards(t, "/readyz 200", func() bool {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if _, err := fake.WaitCall(10*time.Second, func(c discordtest.Call) bool { return strings.HasSuffix(c.Path, "/commands") }); err != nil {
		t.Fatal("commands never registered:", err)
	}
	n := 0
	for _, c := range fake.Calls() {
		if c.Method == http.MethodPut && strings.HasSuffix(c.Path, "/commands") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("commands registered %d times, want once", n)
	}
}
