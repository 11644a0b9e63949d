package session

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/impbot/impbot/bot"
)

type clock struct{ t atomic.Int64 }

func (c *clock) now() time.Time          { return time.Unix(0, c.t.Load()) }
func (c *clock) advance(d time.Duration) { c.t.Add(int64(d)) }

func newClock() *clock {
	c := &clock{}
	c.t.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func openDB(t *testing.T, path string) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// stores returns a fresh store of each kind sharing clock c.
func stores(t *testing.T, c *clock) map[string]Store {
	db := openDB(t, filepath.Join(t.TempDir(), "s.db"))
	t.Cleanup(func() { db.Close() })
	b, err := NewBolt(db, time.Minute, WithClock(c.now))
	if err != nil {
		t.Fatal(err)
	}
	return map[string]Store{"memory": NewMemory(time.Minute, WithClock(c.now)), "bolt": b}
}

func TestStoreBasics(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	for name, s := range stores(t, c) {
		t.Run(name, func(t *testing.T) {
			if _, ok, err := s.Get(ctx, "k"); ok || err != nil {
				t.Fatalf("empty store: ok=%v err=%v", ok, err)
			}
			if err := s.Put(ctx, "k", []byte("v1")); err != nil {
				t.Fatal(err)
			}
			v, ok, err := s.Get(ctx, "k")
			if !ok || err != nil || string(v) != "v1" {
				t.Fatalf("get = %q %v %v", v, ok, err)
			}
			v[0] = 'X' // the caller's copy must not alias the store
			if v, _, _ := s.Get(ctx, "k"); string(v) != "v1" {
				t.Fatalf("store value changed through a returned slice: %q", v)
			}
			if err := s.Put(ctx, "k", nil); err != nil {
				t.Fatal(err)
			}
			if v, ok, _ := s.Get(ctx, "k"); !ok || len(v) != 0 {
				t.Fatalf("empty value: %q %v", v, ok)
			}
			if err := s.Delete(ctx, "k"); err != nil {
				t.Fatal(err)
			}
			if _, ok, _ := s.Get(ctx, "k"); ok {
				t.Fatal("deleted value still there")
			}
			if err := s.Delete(ctx, "absent"); err != nil {
				t.Fatalf("delete absent: %v", err)
			}
		})
	}
}

func TestIdleTimeout(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	for name, s := range stores(t, c) {
		t.Run(name, func(t *testing.T) {
			s.Put(ctx, "a", []byte("1"))
			s.Put(ctx, "b", []byte("2"))
			c.advance(50 * time.Second)
			s.Put(ctx, "b", []byte("3")) // activity restarts b's timer
			c.advance(20 * time.Second)  // a: 70 s idle, b: 20 s
			if _, ok, _ := s.Get(ctx, "a"); ok {
				t.Error("a should have expired")
			}
			if v, ok, _ := s.Get(ctx, "b"); !ok || string(v) != "3" {
				t.Errorf("b = %q %v, want 3", v, ok)
			}
			c.advance(time.Minute)
			n, err := s.Sweep(ctx)
			if err != nil {
				t.Fatal(err)
			}
			// memory deletes a lazily on Get; bolt keeps it until the sweep.
			if n < 1 {
				t.Errorf("sweep removed %d, want at least b", n)
			}
			if n, _ := s.Sweep(ctx); n != 0 {
				t.Errorf("second sweep removed %d", n)
			}
		})
	}
}

func TestForget(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	for name, s := range stores(t, c) {
		t.Run(name, func(t *testing.T) {
			me := &bot.Request{Platform: "telegram", ChatID: "1", UserID: "7"}
			other := &bot.Request{Platform: "telegram", ChatID: "1", UserID: "8"}
			s.Put(ctx, me.SessionKey(), []byte("mine"))
			s.Put(ctx, other.SessionKey(), []byte("theirs"))
			var f bot.Forgetter = s
			if err := f.Forget(ctx, me); err != nil {
				t.Fatal(err)
			}
			if _, ok, _ := s.Get(ctx, me.SessionKey()); ok {
				t.Error("forgotten session still there")
			}
			if v, ok, _ := s.Get(ctx, other.SessionKey()); !ok || string(v) != "theirs" {
				t.Error("another user's session was touched")
			}
		})
	}
}

func TestCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for name, s := range stores(t, newClock()) {
		if err := s.Put(ctx, "k", []byte("v")); err == nil {
			t.Errorf("%s: put with a cancelled context succeeded", name)
		}
	}
}

func TestBoltSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	c := newClock()
	db := openDB(t, path)
	s, err := NewBolt(db, time.Hour, WithClock(c.now))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "telegram:1:7", []byte("state")); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openDB(t, path)
	defer db.Close()
	s, err = NewBolt(db, time.Hour, WithClock(c.now))
	if err != nil {
		t.Fatal(err)
	}
	v, ok, err := s.Get(ctx, "telegram:1:7")
	if !ok || err != nil || string(v) != "state" {
		t.Fatalf("after reopen: %q %v %v", v, ok, err)
	}
	// The file holds hashed keys, not the platform user IDs.
	db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte(BoltBucket)).ForEach(func(k, _ []byte) error {
			if bytes.Contains(k, []byte("telegram")) {
				t.Errorf("raw session key stored: %q", k)
			}
			return nil
		})
	})
}

func TestConcurrent(t *testing.T) {
	ctx := context.Background()
	for name, s := range stores(t, newClock()) {
		t.Run(name, func(t *testing.T) {
			var wg sync.WaitGroup
			for i := range 200 {
				wg.Go(func() {
					key := fmt.Sprintf("k%d", i)
					for j := range 5 {
						if err := s.Put(ctx, key, []byte(fmt.Sprint(i, "-", j))); err != nil {
							t.Error(err)
							return
						}
						v, ok, err := s.Get(ctx, key)
						if err != nil || !ok || string(v) != fmt.Sprint(i, "-", j) {
							t.Errorf("%s: got %q %v %v", key, v, ok, err)
							return
						}
					}
				})
			}
			wg.Wait()
		})
	}
}

func TestNewBoltNil(t *testing.T) {
	if _, err := NewBolt(nil, 0); err == nil {
		t.Fatal("nil db accepted")
	}
}

func TestMemorySweepsOnWrites(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	s := NewMemory(time.Second, WithClock(c.now))
	for i := range 100 {
		s.Put(ctx, fmt.Sprint("old", i), []byte("x"))
	}
	c.advance(2 * time.Second)
	for i := range sweepEvery {
		s.Put(ctx, "live", []byte(fmt.Sprint(i)))
	}
	if n := s.Len(); n != 1 {
		t.Fatalf("len = %d after %d writes, want the expired entries swept", n, sweepEvery)
	}
}

// failingStore fails every sweep.
type failingStore struct {
	Store
	sweeps atomic.Int32
}

func (f *failingStore) Sweep(context.Context) (int, error) {
	f.sweeps.Add(1)
	return 0, fmt.Errorf("disk on fire")
}

func TestRunKeepsSweepingAfterErrors(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s := &failingStore{Store: NewMemory(0)}
	errs := make(chan error, 10)
	done := make(chan struct{})
	go func() {
		Run(ctx, s, time.Millisecond, func(err error) {
			select {
			case errs <- err:
			default: // the test has seen enough
			}
		})
		close(done)
	}()
	for range 3 { // three failures reported, and Run still going
		if err := <-errs; err == nil || err.Error() != "disk on fire" {
			t.Fatalf("reported %v", err)
		}
	}
	cancel()
	<-done
}
