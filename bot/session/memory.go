package session

import (
	"context"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/impbot/impbot/bot"
)

// sweepEvery is how many writes to a Memory store trigger a sweep, so that
// abandoned sessions do not pile up without a background task.
const sweepEvery = 4096

// memShards is the number of independently locked parts of a Memory store:
// requests of different users rarely wait for each other.
const memShards = 64

// filterBits sizes the presence filter of a Memory store: 2^18 counters
// (1 MB). With two counters per key, a key that was never stored is taken
// for a possible one about 0.006 % of the time with 1,000 live sessions,
// 3 % with 50,000 and 29 % with 100,000 (a false positive only costs the
// locked lookup it would have cost anyway).
const filterBits = 18

// Prober is implemented by a store that can tell, without taking a lock,
// that a key certainly has no value. A store shared with other processes
// (Redis) or written by them cannot, and does not implement it.
type Prober interface {
	// MayHave is false only when key has no value: every Put that
	// returned before the call is seen. It may be true for a key that
	// has none (deleted or expired, or a collision).
	MayHave(key string) bool
}

// Memory is a Store in process memory: fast, lost on restart. It is split
// into shards, each with its own lock, and keeps a counting filter of its
// keys that MayHave reads without any lock.
type Memory struct {
	idle   time.Duration
	now    func() time.Time
	seed   maphash.Seed
	writes atomic.Uint64
	shards [memShards]memShard
	// filter counts, for each of its slots, the stored keys that hash to
	// it (two slots per key). It changes only under the lock of the
	// key's shard, when a key is added or removed; MayHave reads it.
	filter []atomic.Uint32
}

type memShard struct {
	mu sync.Mutex
	m  map[string]memEntry
	_  [48]byte // keep shards on separate cache lines
}

type memEntry struct {
	val     []byte
	expires time.Time
}

var (
	_ Store  = (*Memory)(nil)
	_ Prober = (*Memory)(nil)
)

// NewMemory returns an empty in-memory store whose values expire after idle
// without a write (DefaultIdleTimeout when idle <= 0).
func NewMemory(idle time.Duration, opts ...Option) *Memory {
	o := buildOptions(opts)
	s := &Memory{idle: idleOrDefault(idle), now: o.now, seed: maphash.MakeSeed(), filter: make([]atomic.Uint32, 1<<filterBits)}
	for i := range s.shards {
		s.shards[i].m = map[string]memEntry{}
	}
	return s
}

// slots returns the key's shard and its two filter slots.
func (s *Memory) slots(key string) (shard *memShard, a, b uint32) {
	h := maphash.String(s.seed, key)
	const mask = 1<<filterBits - 1
	a = uint32(h) & mask
	b = uint32(h>>filterBits) & mask
	if b == a {
		b = (a + 1) & mask
	}
	return &s.shards[h>>58%memShards], a, b
}

// MayHave implements Prober: it reads two counters, with no lock.
func (s *Memory) MayHave(key string) bool {
	_, a, b := s.slots(key)
	return s.filter[a].Load() > 0 && s.filter[b].Load() > 0
}

// added and removed update the filter; the caller holds the key's shard.
func (s *Memory) added(a, b uint32) {
	s.filter[a].Add(1)
	s.filter[b].Add(1)
}

func (s *Memory) removed(a, b uint32) {
	s.filter[a].Add(^uint32(0))
	s.filter[b].Add(^uint32(0))
}

// Get implements Store.
func (s *Memory) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	sh, a, b := s.slots(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.m[key]
	if !ok {
		return nil, false, nil
	}
	if !s.now().Before(e.expires) {
		delete(sh.m, key)
		s.removed(a, b)
		return nil, false, nil
	}
	return append([]byte(nil), e.val...), true, nil
}

// Put implements Store.
func (s *Memory) Put(ctx context.Context, key string, val []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := s.now()
	sh, a, b := s.slots(key)
	sh.mu.Lock()
	if _, ok := sh.m[key]; !ok {
		s.added(a, b) // before the value is visible, so MayHave never misses it
	}
	sh.m[key] = memEntry{val: append([]byte(nil), val...), expires: now.Add(s.idle)}
	sh.mu.Unlock()
	if s.writes.Add(1)%sweepEvery == 0 {
		s.sweep(now)
	}
	return nil
}

// Delete implements Store.
func (s *Memory) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sh, a, b := s.slots(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.m[key]; ok {
		delete(sh.m, key)
		s.removed(a, b)
	}
	return nil
}

// Forget implements Store and bot.Forgetter.
func (s *Memory) Forget(ctx context.Context, req *bot.Request) error {
	return s.Delete(ctx, req.SessionKey())
}

// Sweep implements Store.
func (s *Memory) Sweep(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return s.sweep(s.now()), nil
}

// sweep removes the values expired at now, one shard at a time.
func (s *Memory) sweep(now time.Time) int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for k, e := range sh.m {
			if !now.Before(e.expires) {
				delete(sh.m, k)
				_, a, b := s.slots(k)
				s.removed(a, b)
				n++
			}
		}
		sh.mu.Unlock()
	}
	return n
}

// Len returns the number of stored values, expired or not (for tests and
// metrics).
func (s *Memory) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}
