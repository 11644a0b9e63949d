package telegram

import (
	"context"
	"path/filepath"
	"testing"

	"go.etcd.io/bbolt"

	"github.com/impbot/impbot/bot"
)

// BenchmarkDurableOutbox measures what durability costs a reply: writing it
// to the outbox before its update is confirmed, and removing it once sent,
// with replies queued from several handlers at once (as in a burst).
func BenchmarkDurableOutbox(b *testing.B) {
	db, err := bbolt.Open(filepath.Join(b.TempDir(), "s.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	h := bot.HandlerFunc(func(context.Context, *bot.Request) (*bot.Response, error) { return nil, nil })
	a, err := New(Config{Token: "1:a", Handler: h, DB: db})
	if err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(4) // 4 × GOMAXPROCS handlers queueing replies
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m := &outMsg{chatID: 42, text: "A reply of a typical length, with <b>some</b> markup and a link."}
			a.out.persist([]*outMsg{m})
			if m.key == nil {
				b.Fatal("not stored")
			}
			a.out.forget(m)
		}
	})
}
