package session

import (
	"context"
	"sync"
)

// A Batch holds the writes of one request to a Redis store until the
// caller commits them, atomically, with its own records (the Telegram
// adapter commits them with the replies of the update): a replica that
// dies mid-update then leaves either both or neither, and the replica that
// takes the update over neither loses the replies nor answers a dialogue
// question the dead one had already moved past. Reads within the request
// see its own writes.
type Batch struct {
	mu  sync.Mutex
	ops []batchOp
}

type batchOp struct {
	key string // the Redis key
	val []byte // nil: delete
	ttl int64  // milliseconds
}

type batchKey struct{}

// WithBatch returns a context whose Redis store writes go to a new Batch.
func WithBatch(ctx context.Context) (context.Context, *Batch) {
	b := &Batch{}
	return context.WithValue(ctx, batchKey{}, b), b
}

func batchFrom(ctx context.Context) *Batch {
	b, _ := ctx.Value(batchKey{}).(*Batch)
	return b
}

func (b *Batch) add(op batchOp) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.ops = append(b.ops, op)
}

// lookup returns the batch's last write of key: found, and its value (nil
// for a delete).
func (b *Batch) lookup(key string) (val []byte, found bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := len(b.ops) - 1; i >= 0; i-- {
		if b.ops[i].key == key {
			return b.ops[i].val, true
		}
	}
	return nil, false
}

// Ops calls set or del for each write, in order (to queue them in a Redis
// transaction).
func (b *Batch) Ops(set func(key string, val []byte, ttlMillis int64), del func(key string)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, op := range b.ops {
		if op.val == nil {
			del(op.key)
		} else {
			set(op.key, op.val, op.ttl)
		}
	}
}

// Len is the number of writes held.
func (b *Batch) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.ops)
}
