package session

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"
)

// filterSum is the total of the filter's counters: two per stored key.
func filterSum(s *Memory) int {
	n := 0
	for i := range s.filter {
		n += int(s.filter[i].Load())
	}
	return n
}

func TestMemoryMayHaveFollowsTheKeys(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	s := NewMemory(time.Second, WithClock(c.now))
	if s.MayHave("a") {
		t.Fatal("empty store may have a key")
	}
	if err := s.Put(ctx, "a", []byte("1")); err != nil {
		t.Fatal(err)
	}
	if !s.MayHave("a") {
		t.Fatal("MayHave false right after Put")
	}
	s.Put(ctx, "a", []byte("2")) // a second write of the same key counts once
	if got := filterSum(s); got != 2 {
		t.Fatalf("filter sum %d after two writes of one key, want 2", got)
	}
	if err := s.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if s.MayHave("a") || filterSum(s) != 0 {
		t.Fatalf("after Delete: MayHave %v, filter sum %d", s.MayHave("a"), filterSum(s))
	}
	s.Delete(ctx, "a") // deleting an absent key changes nothing
	if filterSum(s) != 0 {
		t.Fatal("deleting an absent key changed the filter")
	}

	// Expired values leave the filter when a Get or a sweep drops them.
	s.Put(ctx, "b", []byte("1"))
	s.Put(ctx, "c", []byte("1"))
	c.advance(2 * time.Second)
	if !s.MayHave("b") {
		t.Fatal("an expired value not yet dropped: MayHave must still say maybe")
	}
	if _, ok, _ := s.Get(ctx, "b"); ok {
		t.Fatal("expired value returned")
	}
	if s.MayHave("b") {
		t.Fatal("MayHave true after Get dropped the expired value")
	}
	if n, _ := s.Sweep(ctx); n != 1 || s.MayHave("c") || filterSum(s) != 0 {
		t.Fatalf("sweep removed %d, MayHave(c) %v, filter sum %d", n, s.MayHave("c"), filterSum(s))
	}
}

// TestMemoryMayHaveTakesNoLock holds every shard's lock and still gets
// answers from MayHave.
func TestMemoryMayHaveTakesNoLock(t *testing.T) {
	s := NewMemory(0)
	s.Put(context.Background(), "present", []byte("x"))
	for i := range s.shards {
		s.shards[i].mu.Lock()
	}
	defer func() {
		for i := range s.shards {
			s.shards[i].mu.Unlock()
		}
	}()
	done := make(chan [2]bool)
	go func() { done <- [2]bool{s.MayHave("present"), s.MayHave("absent")} }()
	select {
	case got := <-done:
		if !got[0] || got[1] {
			t.Fatalf("MayHave(present)=%v MayHave(absent)=%v", got[0], got[1])
		}
	case <-time.After(10 * time.Second):
		t.Fatal("MayHave waited for a shard lock")
	}
}

// TestMemoryMayHaveNeverMissesUnderConcurrency: goroutines write, read and
// delete their own keys while others do the same on other keys; a key
// written and not yet deleted is always a maybe, and at the end the filter
// holds exactly two counts per stored key.
func TestMemoryMayHaveNeverMissesUnderConcurrency(t *testing.T) {
	ctx := context.Background()
	s := NewMemory(time.Hour)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 1))
			live := map[string]bool{}
			for i := range 3000 {
				k := fmt.Sprintf("g%d-k%d", g, r.IntN(200))
				switch r.IntN(3) {
				case 0, 1:
					if err := s.Put(ctx, k, []byte(fmt.Sprint(i))); err != nil {
						t.Error(err)
						return
					}
					live[k] = true
				case 2:
					s.Delete(ctx, k)
					delete(live, k)
				}
				for lk := range live {
					if !s.MayHave(lk) {
						t.Errorf("MayHave(%s) false for a stored key", lk)
						return
					}
					break
				}
				if live[k] && !s.MayHave(k) {
					t.Errorf("MayHave(%s) false right after Put", k)
					return
				}
			}
		})
	}
	wg.Wait()
	if got, want := filterSum(s), 2*s.Len(); got != want {
		t.Fatalf("filter sum %d, want %d (two per stored key)", got, want)
	}
}

// TestMemoryMayHaveMostlyNoForAbsentKeys: the filter is useful, not only
// correct: with 1,000 stored keys, absent keys are almost all a sure no.
func TestMemoryMayHaveMostlyNoForAbsentKeys(t *testing.T) {
	ctx := context.Background()
	s := NewMemory(0)
	for i := range 1000 {
		s.Put(ctx, fmt.Sprint("live", i), []byte("x"))
	}
	maybe := 0
	for i := range 10000 {
		if s.MayHave(fmt.Sprint("other", i)) {
			maybe++
		}
	}
	if maybe > 20 { // expected about 0.6 (0.006 %)
		t.Fatalf("%d of 10,000 absent keys taken for possible ones", maybe)
	}
}

// BenchmarkMemoryParallel: Get and Put of many users at once (8 goroutines
// per core), the case the shards are for.
func BenchmarkMemoryParallel(b *testing.B) {
	ctx := context.Background()
	s := NewMemory(0)
	val := []byte(`{"v":1,"lang":"en","facts":{"citizenship":"FR"},"ask":"age"}`)
	for i := range 10000 {
		s.Put(ctx, fmt.Sprint("console:u", i), val)
	}
	b.SetParallelism(8)
	b.ReportAllocs()
	var seq sync.Mutex
	next := 0
	b.RunParallel(func(pb *testing.PB) {
		seq.Lock()
		i := next * 7919
		next++
		seq.Unlock()
		for pb.Next() {
			i++
			k := "console:u" + fmt.Sprint(i%10000)
			if i%4 == 0 {
				s.Put(ctx, k, val)
			} else {
				s.Get(ctx, k)
			}
		}
	})
	runtime.KeepAlive(s)
}
