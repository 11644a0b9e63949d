package discord

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"
)

// pool runs jobs on a fixed number of workers, each with a bounded queue.
// Jobs with the same key (one user in one channel) go to the same worker, so
// one person's messages and button presses are handled in order while
// different people are served in parallel.
type pool struct {
	log    *slog.Logger
	mu     sync.RWMutex
	closed bool
	queues []chan func(ctx context.Context)
	wg     sync.WaitGroup
	ctx    context.Context
	cancel context.CancelFunc
}

func newPool(workers, queue int, log *slog.Logger) *pool {
	ctx, cancel := context.WithCancel(context.Background())
	p := &pool{log: log, ctx: ctx, cancel: cancel}
	for range workers {
		q := make(chan func(ctx context.Context), queue)
		p.queues = append(p.queues, q)
		p.wg.Go(func() {
			for job := range q {
				p.run(job)
			}
		})
	}
	return p
}

func (p *pool) run(job func(ctx context.Context)) {
	defer func() {
		if r := recover(); r != nil {
			p.log.Error("discord handler panicked", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
	}()
	job(p.ctx)
}

// submit queues job without blocking (it is called from the gateway's read
// loop, which must keep reading). It returns false when the worker's queue
// is full or the pool is stopping.
func (p *pool) submit(key string, job func(ctx context.Context)) bool {
	h := fnv.New32a()
	h.Write([]byte(key))
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return false
	}
	select {
	case p.queues[int(h.Sum32()%uint32(len(p.queues)))] <- job:
		return true
	default:
		return false
	}
}

// stop takes no more jobs, lets the queued ones finish for up to grace, then
// cancels their context and waits for them to return.
func (p *pool) stop(grace time.Duration) {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		for _, q := range p.queues {
			close(q)
		}
	}
	p.mu.Unlock()
	done := make(chan struct{})
	go func() {
		p.wg.Wait()
		close(done)
	}()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		p.log.Warn("discord replies still in flight at shutdown: cancelling them")
		p.cancel()
		<-done
	}
	p.cancel()
}
