package session

import (
	"context"
	"sync"
	"time"

	"github.com/impbot/impbot/bot"
)

// sweepEvery is how many writes to a Memory store trigger a sweep, so that
// abandoned sessions do not pile up without a background task.
const sweepEvery = 4096

// Memory is a Store in process memory: fast, lost on restart.
type Memory struct {
	idle time.Duration
	now  func() time.Time

	mu     sync.Mutex
	m      map[string]memEntry
	writes int
}

type memEntry struct {
	val     []byte
	expires time.Time
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-memory store whose values expire after idle
// without a write (DefaultIdleTimeout when idle <= 0).
func NewMemory(idle time.Duration, opts ...Option) *Memory {
	o := buildOptions(opts)
	return &Memory{idle: idleOrDefault(idle), now: o.now, m: map[string]memEntry{}}
}

// Get implements Store.
func (s *Memory) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[key]
	if !ok {
		return nil, false, nil
	}
	if !s.now().Before(e.expires) {
		delete(s.m, key)
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
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = memEntry{val: append([]byte(nil), val...), expires: now.Add(s.idle)}
	s.writes++
	if s.writes%sweepEvery == 0 {
		s.sweepLocked(now)
	}
	return nil
}

// Delete implements Store.
func (s *Memory) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
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
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sweepLocked(now), nil
}

func (s *Memory) sweepLocked(now time.Time) int {
	n := 0
	for k, e := range s.m {
		if !now.Before(e.expires) {
			delete(s.m, k)
			n++
		}
	}
	return n
}

// Len returns the number of stored values, expired or not (for tests and
// metrics).
func (s *Memory) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}
