package telegram

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"go.etcd.io/bbolt"

	"github.com/impbot/impbot/bot/cluster"
)

// callbackTTL is how long a long button payload is kept in Redis.
const callbackTTL = 90 * 24 * time.Hour

// maxCallbackData is Telegram's limit on a button's callback_data, in bytes.
const maxCallbackData = 64

// callbackPrefix marks callback data that stands for a longer action.
const callbackPrefix = "~"

// maxCallbackCache bounds the in-memory map of short ids.
const maxCallbackCache = 10000

var callbackBucket = []byte("telegram_callbacks")

// callbackIDs maps actions too long for callback_data to short ids (a hash
// of the action, so the same action always gets the same id). With a store
// the mapping survives restarts, so old buttons keep working.
type callbackIDs struct {
	db     *bbolt.DB
	shared *cluster.Redis // replicas share the payloads (nil: one replica)
	log    *slog.Logger

	mu sync.Mutex
	m  map[string]string
}

func newCallbackIDs(db *bbolt.DB, log *slog.Logger) (*callbackIDs, error) {
	if db != nil {
		if err := db.Update(func(tx *bbolt.Tx) error {
			_, err := tx.CreateBucketIfNotExists(callbackBucket)
			return err
		}); err != nil {
			return nil, fmt.Errorf("telegram: create the button store: %w", err)
		}
	}
	return &callbackIDs{db: db, log: log, m: map[string]string{}}, nil
}

// encode returns callback data of at most 64 bytes for an action.
func (c *callbackIDs) encode(action string) string {
	if action != "" && len(action) <= maxCallbackData && !strings.HasPrefix(action, callbackPrefix) && utf8.ValidString(action) {
		return action
	}
	sum := sha256.Sum256([]byte(action))
	id := callbackPrefix + base64.RawURLEncoding.EncodeToString(sum[:16])
	c.mu.Lock()
	_, known := c.m[id]
	if !known {
		if len(c.m) >= maxCallbackCache {
			clear(c.m)
		}
		c.m[id] = action
	}
	c.mu.Unlock()
	if !known && c.shared != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := c.shared.Check(c.shared.Client().Set(ctx, c.shared.Key("tg-cb", id), action, callbackTTL).Err())
		cancel()
		if err != nil {
			c.log.Warn("cannot share a button payload; other replicas will not know it", "err", err)
		}
	}
	if !known && c.db != nil {
		err := c.db.Update(func(tx *bbolt.Tx) error {
			b := tx.Bucket(callbackBucket)
			if b.Get([]byte(id)) != nil {
				return nil
			}
			return b.Put([]byte(id), []byte(action))
		})
		if err != nil {
			c.log.Warn("cannot store a button payload; it will not survive a restart", "err", err)
		}
	}
	return id
}

// decode returns the action for callback data; ok is false for an id that
// is not known (any more).
func (c *callbackIDs) decode(data string) (action string, ok bool) {
	if !strings.HasPrefix(data, callbackPrefix) {
		return data, true
	}
	c.mu.Lock()
	action, ok = c.m[data]
	c.mu.Unlock()
	if ok || (c.db == nil && c.shared == nil) {
		return action, ok
	}
	if c.shared != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		v, err := c.shared.Client().Get(ctx, c.shared.Key("tg-cb", data)).Result()
		cancel()
		if c.shared.Check(err) == nil {
			action, ok = v, true
		}
	}
	if !ok && c.db != nil {
		_ = c.db.View(func(tx *bbolt.Tx) error {
			if v := tx.Bucket(callbackBucket).Get([]byte(data)); v != nil {
				action, ok = string(v), true
			}
			return nil
		})
	}
	if ok {
		c.mu.Lock()
		if len(c.m) >= maxCallbackCache {
			clear(c.m)
		}
		c.m[data] = action
		c.mu.Unlock()
	}
	return action, ok
}
