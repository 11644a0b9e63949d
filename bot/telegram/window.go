package telegram

import (
	"context"
	"sync"
	"time"
)

// Window is a sending limit: at most N messages in any interval of length
// Per (a sliding window, with no burst on top).
type Window struct {
	N   int
	Per time.Duration
}

// windowLimiter enforces a Window on sends as the receiver sees them: a slot
// is taken when a send starts and stays taken until Per after the send has
// finished, so however long a request travels, the server never receives
// more than N within any Per (the next send on that slot starts after the
// previous one was received plus Per).
type windowLimiter struct {
	w Window

	mu      sync.Mutex
	busy    []time.Time   // per taken slot: free at this time; zero while in flight
	changed chan struct{} // closed and replaced when a slot is released
}

func newWindowLimiter(w Window) *windowLimiter {
	if w.N <= 0 {
		w.N = 1
	}
	return &windowLimiter{w: w, changed: make(chan struct{})}
}

// acquire waits for a free slot and takes it; call the returned function
// when the send has finished (succeeded or not). It fails only when ctx
// ends.
func (l *windowLimiter) acquire(ctx context.Context) (release func(), err error) {
	for {
		l.mu.Lock()
		now := time.Now()
		live := l.busy[:0]
		var next time.Time
		for _, t := range l.busy {
			if t.IsZero() || t.After(now) {
				live = append(live, t)
				if !t.IsZero() && (next.IsZero() || t.Before(next)) {
					next = t
				}
			}
		}
		l.busy = live
		if len(l.busy) < l.w.N {
			l.busy = append(l.busy, time.Time{})
			l.mu.Unlock()
			var once sync.Once
			return func() { once.Do(l.release) }, nil
		}
		changed := l.changed
		l.mu.Unlock()
		var timer *time.Timer
		var fire <-chan time.Time
		if !next.IsZero() {
			timer = time.NewTimer(next.Sub(now))
			fire = timer.C
		}
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-changed:
		case <-fire:
		}
		if timer != nil {
			timer.Stop()
		}
		if err != nil {
			return nil, err
		}
	}
}

// release turns one in-flight slot into a slot busy for Per from now.
func (l *windowLimiter) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, t := range l.busy {
		if t.IsZero() {
			l.busy[i] = time.Now().Add(l.w.Per)
			break
		}
	}
	close(l.changed)
	l.changed = make(chan struct{})
}

// idle reports whether no slot is taken (the limiter can be dropped).
func (l *windowLimiter) idle() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	for _, t := range l.busy {
		if t.IsZero() || t.After(now) {
			return false
		}
	}
	return true
}
