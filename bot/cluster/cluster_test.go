package cluster_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/impbot/impbot/bot"
	"github.com/impbot/impbot/bot/cluster"
	"github.com/impbot/impbot/bot/redistest"
	"github.com/impbot/impbot/bot/testmain"
)

// TestMain lets all the tests of this package run at once (unless
// -test.parallel is given; by default only GOMAXPROCS do, 2 on the CI
// machine): each has its own redis-server, and they mostly wait for leases
// to expire or be renewed and for buckets to refill.
func TestMain(m *testing.M) {
	testmain.Parallel(8)
	testmain.Run(m) // no ThreadSanitizer exit sleep under -race (package testmain)
}

func open(t *testing.T, srv *redistest.Server) *cluster.Redis {
	t.Helper()
	r, err := cluster.Open(cluster.Options{URL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestOpenRedactsPassword(t *testing.T) {
	t.Parallel()
	if got := cluster.Redact("rediss://user:s3cret@redis.example:6380/2"); strings.Contains(got, "s3cret") || !strings.Contains(got, "rediss://user:") {
		t.Fatalf("Redact = %q", got)
	}
	_, err := cluster.Open(cluster.Options{URL: "redis://u:s3cret@host:notaport/x"})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("bad URL error %v (must not show the password)", err)
	}
	r, err := cluster.Open(cluster.Options{URL: "rediss://:pw@127.0.0.1:6380/0"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if strings.Contains(r.String(), "pw@") || r.Client().Options().TLSConfig == nil {
		t.Fatalf("rediss: %s, TLS %v", r.String(), r.Client().Options().TLSConfig)
	}
}

func TestBeginFinishOnceAcrossReplicas(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	ctx := redistest.Context(t)
	a, b := open(t, srv), open(t, srv)
	if c, err := a.Begin(ctx, "u", "1", time.Minute); err != nil || c != cluster.Mine {
		t.Fatalf("first claim: %v %v", c, err)
	}
	if c, err := b.Begin(ctx, "u", "1", time.Minute); err != nil || c != cluster.Busy {
		t.Fatalf("claim while the other works: %v %v", c, err)
	}
	if err := a.Finish(ctx, "u", "1", time.Minute); err != nil {
		t.Fatal(err)
	}
	if c, err := b.Begin(ctx, "u", "1", time.Minute); err != nil || c != cluster.Done {
		t.Fatalf("claim after done: %v %v", c, err)
	}
	// A claim whose holder died expires: the redelivery is handled.
	if c, _ := a.Begin(ctx, "u", "2", 100*time.Millisecond); c != cluster.Mine {
		t.Fatal("claim 2")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := b.Begin(ctx, "u", "2", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if c == cluster.Mine {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("an abandoned claim never expired")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Concurrent claims: exactly one wins.
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 20 {
		r := a
		if i%2 == 1 {
			r = b
		}
		wg.Go(func() {
			if c, err := r.Begin(ctx, "u", "3", time.Minute); err == nil && c == cluster.Mine {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d replicas claimed the same update", wins.Load())
	}
}

func TestLockExcludesAndExpires(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	ctx := redistest.Context(t)
	a, b := open(t, srv), open(t, srv)
	// The three cases use different locks: they run at once.
	t.Run("mutual exclusion", func(t *testing.T) {
		t.Parallel()
		// A counter incremented without atomics under the lock.
		var inside atomic.Int32
		var overlap atomic.Bool
		var wg sync.WaitGroup
		for i := range 6 {
			r := a
			if i%2 == 1 {
				r = b
			}
			wg.Go(func() {
				for range 10 {
					unlock, err := r.Lock(ctx, "chat:1", 2*time.Second)
					if err != nil {
						t.Error(err)
						return
					}
					if inside.Add(1) != 1 {
						overlap.Store(true)
					}
					time.Sleep(time.Millisecond)
					inside.Add(-1)
					unlock()
				}
			})
		}
		wg.Wait()
		if overlap.Load() {
			t.Fatal("two holders of one lock at once")
		}
	})
	t.Run("a dead holder's lock expires", func(t *testing.T) {
		t.Parallel()
		// A holder that dies (its client gone, no renewal, no release)
		// frees the lock when the lease ends.
		dead, err := cluster.Open(cluster.Options{URL: srv.URL()})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := dead.Lock(ctx, "chat:2", 300*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		dead.Close()
		lctx, cancel := context.WithTimeout(ctx, 2*time.Minute) // a ceiling for a stuck test; the lease is 300 ms
		defer cancel()
		unlock, err := b.Lock(lctx, "chat:2", time.Second)
		if err != nil {
			t.Fatalf("lock of a dead holder never freed: %v", err)
		}
		unlock()
	})
	t.Run("a held lock is renewed", func(t *testing.T) {
		t.Parallel()
		// A lease shorter than the work is renewed: nobody else gets it
		// meanwhile. The lease leaves room for a renewal late by up to two
		// thirds of it (a loaded, race-built run once missed a 150 ms
		// lease's renewal).
		unlock, err := a.Lock(ctx, "chat:3", time.Second)
		if err != nil {
			t.Fatal(err)
		}
		short, cancel2 := context.WithTimeout(ctx, 2500*time.Millisecond)
		defer cancel2()
		if _, err := b.Lock(short, "chat:3", time.Second); err == nil {
			t.Fatal("a held lock was taken by another replica (lease not renewed)")
		}
		unlock()
	})
}

func TestLeadOneAtATimeAndTakeover(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	ctx := redistest.Context(t)
	lease := 300 * time.Millisecond
	var leaders atomic.Int32
	var overlap atomic.Bool
	started := make(chan int, 10)
	run := func(r *cluster.Redis, n int) (stop func()) {
		lctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			r.Lead(lctx, "poll", lease, func(wctx context.Context) {
				if leaders.Add(1) != 1 {
					overlap.Store(true)
				}
				started <- n
				<-wctx.Done()
				leaders.Add(-1)
			})
		}()
		return func() { cancel(); <-done }
	}
	a, b := open(t, srv), open(t, srv)
	stopA := run(a, 1)
	first := <-started
	stopB := run(b, 2)
	defer stopB()
	if first != 1 {
		t.Fatalf("leader %d", first)
	}
	// The leader "dies" without releasing: its client stops answering.
	// Simulate by closing the client under it, then stopping it.
	a.Close()
	stopA()
	select {
	case n := <-started:
		if n != 2 {
			t.Fatalf("leader %d took over", n)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no takeover")
	}
	if overlap.Load() {
		t.Fatal("two leaders at once")
	}
}

func TestTakeSharedBucket(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	ctx := redistest.Context(t)
	a, b := open(t, srv), open(t, srv)
	const rate, burst, n = 40.0, 4, 40
	var mu sync.Mutex
	var times []time.Time
	var wg sync.WaitGroup
	for i := range 4 {
		r := a
		if i%2 == 1 {
			r = b
		}
		wg.Go(func() {
			for range n / 4 {
				if err := r.Take(ctx, "tg-global", rate, burst); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				times = append(times, time.Now())
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	// In any window, no more than burst + rate×window tokens (+2 for the
	// gap between the server granting and the client noting the time).
	for i := range times {
		for j := range times {
			if times[j].Before(times[i]) {
				continue
			}
			count := 0
			for _, tm := range times {
				if !tm.Before(times[i]) && !tm.After(times[j]) {
					count++
				}
			}
			allowed := float64(burst) + rate*times[j].Sub(times[i]).Seconds() + 2
			if float64(count) > allowed {
				t.Fatalf("%d sends in %v: over the shared limit %.1f", count, times[j].Sub(times[i]), allowed)
			}
		}
	}
}

func TestUnavailableIsMarked(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	ctx := redistest.Context(t)
	r := open(t, srv)
	if err := r.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	if err := r.Ping(ctx); !errors.Is(err, bot.ErrUnavailable) {
		t.Fatalf("ping with Redis down: %v", err)
	}
	if _, err := r.Lock(ctx, "x", time.Second); !errors.Is(err, bot.ErrUnavailable) {
		t.Fatalf("lock with Redis down: %v", err)
	}
	if _, err := r.Begin(ctx, "u", "1", time.Second); !errors.Is(err, bot.ErrUnavailable) {
		t.Fatalf("claim with Redis down: %v", err)
	}
	if r.Up() || r.Ready() == nil {
		t.Fatal("health still up")
	}
}

// TestClaimAndMembers: a lease is held by one replica at a time, renewed
// while held, free again after Release; a replica counts in a group while
// it keeps calling Members.
func TestClaimAndMembers(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	ctx := redistest.Context(t)
	a, b := open(t, srv), open(t, srv)
	la, err := a.Claim(ctx, "shard:1", 600*time.Millisecond)
	if err != nil || la == nil {
		t.Fatalf("first claim: %v %v", la, err)
	}
	time.Sleep(time.Second) // longer than the lease: renewed
	if lb, err := b.Claim(ctx, "shard:1", 600*time.Millisecond); err != nil || lb != nil {
		t.Fatalf("second claim while held: %v %v", lb, err)
	}
	select {
	case <-la.Lost:
		t.Fatal("lease lost while renewed")
	default:
	}
	la.Release()
	la.Release()
	<-la.Lost
	lb, err := b.Claim(ctx, "shard:1", 600*time.Millisecond)
	if err != nil || lb == nil {
		t.Fatalf("claim after release: %v %v", lb, err)
	}
	lb.Release()

	if n, err := a.Members(ctx, "g", "a", 400*time.Millisecond); err != nil || n != 1 {
		t.Fatalf("members: %d %v", n, err)
	}
	if n, _ := b.Members(ctx, "g", "b", 400*time.Millisecond); n != 2 {
		t.Fatalf("members with two: %d", n)
	}
	time.Sleep(600 * time.Millisecond) // a stops calling: it drops out
	if n, _ := b.Members(ctx, "g", "b", 400*time.Millisecond); n != 1 {
		t.Fatalf("members after a left: %d", n)
	}
}
