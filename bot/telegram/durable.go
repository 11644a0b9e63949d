package telegram

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"go.etcd.io/bbolt"
)

// The durable outbox: with a store (Config.DB), every reply is written to
// disk when it is queued, before the update that caused it is confirmed to
// Telegram (the polling offset moves past it, or the webhook answers 200),
// and removed once Telegram has it (or refused it for good). A reply still
// on disk at the next start, because the process was killed or the shutdown
// deadline passed while Telegram held it back (429 retry_after), is sent
// then, in the order it was queued.
//
// A reply is sent twice only if the process dies between Telegram's
// answer to sendMessage and the removal of the record (one disk write).

// outboxBucket holds queued replies by sequence number (8 bytes, big-endian).
var outboxBucket = []byte("telegram_outbox")

// outRecord is an outMsg on disk.
type outRecord struct {
	Chat    int64           `json:"c"`
	Text    string          `json:"t"`
	Plain   bool            `json:"p,omitempty"`
	ReplyTo int             `json:"r,omitempty"`
	Kind    string          `json:"k,omitempty"` // "inline", "force" or "" (no markup)
	Markup  json.RawMessage `json:"m,omitempty"`
	Handoff string          `json:"h,omitempty"`
}

func toRecord(m *outMsg) ([]byte, error) {
	r := outRecord{Chat: m.chatID, Text: m.text, Plain: m.plain, ReplyTo: m.replyTo, Handoff: m.handoff}
	switch mk := m.markup.(type) {
	case nil:
	case tgbotapi.InlineKeyboardMarkup:
		r.Kind = "inline"
	case tgbotapi.ForceReply:
		r.Kind = "force"
	default:
		return nil, fmt.Errorf("markup of type %T cannot be stored", mk)
	}
	if r.Kind != "" {
		raw, err := json.Marshal(m.markup)
		if err != nil {
			return nil, err
		}
		r.Markup = raw
	}
	return json.Marshal(r)
}

func (o *outbox) fromRecord(key, data []byte) (*outMsg, error) {
	var r outRecord
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, err
	}
	m := &outMsg{chatID: r.Chat, text: r.Text, plain: r.Plain, replyTo: r.ReplyTo, handoff: r.Handoff,
		key: append([]byte(nil), key...)}
	switch r.Kind {
	case "inline":
		var mk tgbotapi.InlineKeyboardMarkup
		if err := json.Unmarshal(r.Markup, &mk); err != nil {
			return nil, err
		}
		m.markup = mk
	case "force":
		var mk tgbotapi.ForceReply
		if err := json.Unmarshal(r.Markup, &mk); err != nil {
			return nil, err
		}
		m.markup = mk
	}
	if m.handoff != "" && o.a.ho != nil {
		h, id := o.a.ho, m.handoff
		m.sent = func(sent tgbotapi.Message) { h.link(id, sent.MessageID) }
	}
	return m, nil
}

// persist writes msgs to the durable outbox (when there is a store). A
// failure is logged and the messages are still sent from memory.
func (o *outbox) persist(msgs []*outMsg) {
	db := o.a.cfg.DB
	if db == nil {
		return
	}
	recs := make([][]byte, len(msgs))
	for i, m := range msgs {
		rec, err := toRecord(m)
		if err != nil {
			o.a.log.Error("reply cannot be stored in the outbox; it is sent from memory only", "err", err)
			return
		}
		recs[i] = rec
	}
	err := db.Batch(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(outboxBucket)
		if err != nil {
			return err
		}
		for i, m := range msgs {
			seq, err := b.NextSequence()
			if err != nil {
				return err
			}
			m.key = binary.BigEndian.AppendUint64(nil, seq)
			if err := b.Put(m.key, recs[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		for _, m := range msgs {
			m.key = nil
		}
		o.a.log.Error("replies cannot be stored in the outbox; they are sent from memory only (lost on a crash)", "err", err)
	}
}

// forget removes a delivered (or refused) message from the durable outbox.
func (o *outbox) forget(m *outMsg) {
	db := o.a.cfg.DB
	if db == nil || m.key == nil {
		return
	}
	err := db.Batch(func(tx *bbolt.Tx) error {
		if b := tx.Bucket(outboxBucket); b != nil {
			return b.Delete(m.key)
		}
		return nil
	})
	if err != nil {
		o.a.log.Error("a sent reply cannot be removed from the outbox; it may be sent again after a restart", "err", err)
	}
}

// restore queues the messages left in the durable outbox by the previous
// run, in their order; it returns how many.
func (o *outbox) restore() (int, error) {
	db := o.a.cfg.DB
	if db == nil {
		return 0, nil
	}
	var msgs []*outMsg
	var bad [][]byte
	err := db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(outboxBucket)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			m, err := o.fromRecord(k, v)
			if err != nil {
				bad = append(bad, append([]byte(nil), k...))
				return nil
			}
			msgs = append(msgs, m)
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("telegram: read the outbox: %w", err)
	}
	if len(bad) > 0 {
		o.a.log.Error("unreadable replies dropped from the outbox", "count", len(bad))
		_ = db.Update(func(tx *bbolt.Tx) error {
			b := tx.Bucket(outboxBucket)
			for _, k := range bad {
				_ = b.Delete(k)
			}
			return nil
		})
	}
	// push keeps the order per chat.
	o.push(msgs)
	return len(msgs), nil
}
