package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/redis/go-redis/v9"

	"github.com/impbot/impbot/bot/session"
)

// With several replicas, the replies to a claimed update are recorded in
// Redis before they are sent, and each message sent is counted. A replica
// that dies mid-update lets its claim expire; Telegram redelivers the
// update, and the replica that takes it over sends the messages not yet
// sent instead of answering again (which would answer twice, or answer a
// dialogue question the first handler already moved past). Only a message
// sent in the instant between Telegram accepting it and the count can go
// twice.

// replayTTL bounds how long the replies of an update are kept.
const replayTTL = time.Hour

type recordedMsg struct {
	Chat    int64           `json:"c"`
	Text    string          `json:"t"`
	Plain   bool            `json:"p,omitempty"`
	ReplyTo int             `json:"r,omitempty"`
	Markup  json.RawMessage `json:"m,omitempty"`
}

func (a *Adapter) outKey(uid int) string  { return a.cfg.Cluster.Key("tg-out", strconv.Itoa(uid)) }
func (a *Adapter) sentKey(uid int) string { return a.cfg.Cluster.Key("tg-sent", strconv.Itoa(uid)) }

// record stores msgs as the replies of update uid and counts each as it is
// sent. Without a cluster or uid it does nothing; when Redis fails the
// replies are sent unrecorded.
// batch returns the context in which a claimed update is handled: its
// session writes are held, to be committed with its replies (record).
func (a *Adapter) batch(uid int) (context.Context, *session.Batch) {
	if a.cfg.Cluster == nil || uid == 0 {
		return context.Background(), nil
	}
	return session.WithBatch(context.Background())
}

func (a *Adapter) record(uid int, msgs []*outMsg, batch *session.Batch) {
	c := a.cfg.Cluster
	if c == nil || uid == 0 {
		return
	}
	vals := make([]any, 0, len(msgs)+1)
	vals = append(vals, "start") // a record exists even for no reply
	for _, m := range msgs {
		rm := recordedMsg{Chat: m.chatID, Text: m.text, Plain: m.plain, ReplyTo: m.replyTo}
		if m.markup != nil {
			raw, err := json.Marshal(m.markup)
			if err != nil {
				return
			}
			rm.Markup = raw
		}
		data, err := json.Marshal(rm)
		if err != nil {
			return
		}
		vals = append(vals, data)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	key := a.outKey(uid)
	_, err := c.Client().TxPipelined(ctx, func(p redis.Pipeliner) error {
		// The session writes of the update and its replies: all or nothing.
		if batch != nil {
			batch.Ops(func(k string, v []byte, ttl int64) { p.Set(ctx, k, v, time.Duration(ttl)*time.Millisecond) },
				func(k string) { p.Del(ctx, k) })
		}
		p.Del(ctx, key)
		p.RPush(ctx, key, vals...)
		p.Expire(ctx, key, replayTTL)
		return nil
	})
	if err = c.Check(err); err != nil {
		a.log.Warn("cannot record the replies and the dialogue state of an update: the dialogue may repeat a question", "update_id", uid, "err", err)
		return
	}
	sent := a.sentKey(uid)
	for _, m := range msgs {
		prev := m.sent
		m.sent = func(tm tgbotapi.Message) {
			if prev != nil {
				prev(tm)
			}
			ictx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_, _ = c.Client().TxPipelined(ictx, func(p redis.Pipeliner) error {
				p.Incr(ictx, sent)
				p.Expire(ictx, sent, replayTTL)
				return nil
			})
		}
	}
}

// replay sends the replies of update uid that a replica that died did not
// send, and reports whether the update had been handled already (then it
// must not be handled again).
func (a *Adapter) replay(uid int) bool {
	c := a.cfg.Cluster
	if c == nil || uid == 0 {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	raws, err := c.Client().LRange(ctx, a.outKey(uid), 0, -1).Result()
	if c.Check(err) != nil || len(raws) == 0 {
		return false
	}
	n, err := c.Client().Get(ctx, a.sentKey(uid)).Int()
	if err != nil && !errors.Is(err, redis.Nil) {
		if c.Check(err) != nil {
			return false
		}
	}
	var msgs []*outMsg
	for i, raw := range raws[1:] {
		if i < n {
			continue
		}
		var rm recordedMsg
		if json.Unmarshal([]byte(raw), &rm) != nil {
			continue
		}
		m := &outMsg{chatID: rm.Chat, text: rm.Text, plain: rm.Plain, replyTo: rm.ReplyTo}
		if len(rm.Markup) > 0 && string(rm.Markup) != "null" {
			m.markup = rm.Markup
		}
		msgs = append(msgs, m)
	}
	a.log.Info("update taken over from a replica that stopped: sending its remaining replies",
		"update_id", uid, "sent", n, "remaining", len(msgs))
	// Count the replayed ones too, in case this replica dies as well.
	sent := a.sentKey(uid)
	for _, m := range msgs {
		m.sent = func(tgbotapi.Message) {
			ictx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_ = c.Client().Incr(ictx, sent).Err()
		}
	}
	a.out.enqueue(msgs...)
	return true
}
