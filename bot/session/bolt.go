package session

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/impbot/impbot/bot"
)

// BoltBucket is the bucket that holds the sessions in the shared bbolt file.
const BoltBucket = "sessions"

// Bolt is a Store in a bbolt file, so that sessions survive a restart. It
// uses its own bucket of a database that other components may share; it does
// not close the database. Keys are hashed; each value is prefixed with its
// expiry time (8 bytes, Unix nanoseconds, big-endian).
type Bolt struct {
	db   *bbolt.DB
	idle time.Duration
	now  func() time.Time
}

var _ Store = (*Bolt)(nil)

// NewBolt returns a store in db's BoltBucket, creating the bucket if needed.
func NewBolt(db *bbolt.DB, idle time.Duration, opts ...Option) (*Bolt, error) {
	if db == nil {
		return nil, errors.New("session: nil bbolt database")
	}
	err := db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists([]byte(BoltBucket))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("session: create bucket %q: %w", BoltBucket, err)
	}
	o := buildOptions(opts)
	return &Bolt{db: db, idle: idleOrDefault(idle), now: o.now}, nil
}

// Get implements Store.
func (s *Bolt) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	var out []byte
	now := s.now().UnixNano()
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(BoltBucket))
		if b == nil {
			return nil
		}
		v := b.Get(hashKey(key))
		if len(v) < 8 || int64(binary.BigEndian.Uint64(v[:8])) <= now {
			return nil
		}
		out = append([]byte{}, v[8:]...) // copy: v is only valid inside the transaction
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("session: get: %w", err)
	}
	return out, out != nil, nil
}

// Put implements Store. Concurrent writes are batched into one transaction.
func (s *Bolt) Put(ctx context.Context, key string, val []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	rec := make([]byte, 8+len(val))
	binary.BigEndian.PutUint64(rec[:8], uint64(s.now().Add(s.idle).UnixNano()))
	copy(rec[8:], val)
	k := hashKey(key)
	err := s.db.Batch(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte(BoltBucket))
		if err != nil {
			return err
		}
		return b.Put(k, rec)
	})
	if err != nil {
		return fmt.Errorf("session: put: %w", err)
	}
	return nil
}

// Delete implements Store.
func (s *Bolt) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	k := hashKey(key)
	err := s.db.Batch(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(BoltBucket))
		if b == nil {
			return nil
		}
		return b.Delete(k)
	})
	if err != nil {
		return fmt.Errorf("session: delete: %w", err)
	}
	return nil
}

// Forget implements Store and bot.Forgetter.
func (s *Bolt) Forget(ctx context.Context, req *bot.Request) error {
	return s.Delete(ctx, req.SessionKey())
}

// Sweep implements Store.
func (s *Bolt) Sweep(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	now := s.now().UnixNano()
	n := 0
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(BoltBucket))
		if b == nil {
			return nil
		}
		var dead [][]byte
		err := b.ForEach(func(k, v []byte) error {
			if len(v) < 8 || int64(binary.BigEndian.Uint64(v[:8])) <= now {
				dead = append(dead, append([]byte(nil), k...))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range dead {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(dead)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("session: sweep: %w", err)
	}
	return n, nil
}
