package telegram

// Pending handoffs shared in Redis (Config.Cluster): a question forwarded
// to staff through one replica can be answered through any other, since a
// staff reply is one Telegram update and whichever replica claims it finds
// the handoff in Redis. The remembered question and the "send your question"
// prompt are shared too, as the user's next message may land on another
// replica. Keys, under the cluster prefix, expire by themselves:
//
//	ho:<id>               the record (magic byte, format version, JSON), for HandoffTTL
//	ho-msg:<staff msg>    the handoff a staff chat message stands for, for HandoffTTL
//	ho-user:<owner hash>  the set of a user's handoffs (for /forget), for HandoffTTL
//	ho-open:<owner hash>  the user's unanswered question (one at a time), 10 minutes
//	ho-last:<session>     the question remembered for a handoff, for QuestionTTL
//	ho-wait:<session>     the "what would you like to ask" prompt is open, for QuestionTTL
//
// Owners and sessions are hashed: no user id appears in a key.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/impbot/impbot/bot"
)

// Record format of a handoff in Redis: a newer replica reads an older one's
// records; a record of a newer format is treated as gone, not misread.
const (
	hoMagic   = 0xB7
	hoVersion = 1
	// openFor is how long a user's unanswered question blocks another.
	openFor = 10 * time.Minute
)

func hoHash(parts ...string) string {
	h := sha256.New()
	h.Write([]byte("impbot-handoff"))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// owner names the user a record belongs to.
func (rec *handoff) owner() string {
	if rec.Platform != "" {
		return hoHash(rec.Platform, rec.Key)
	}
	return hoHash(platform, strconv.FormatInt(rec.ChatID, 10), strconv.FormatInt(rec.UserID, 10))
}

func (h *handoffs) rkey(parts ...string) string { return h.shared.Key(parts...) }

func (h *handoffs) rctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 2*time.Second)
}

func encodeHandoff(rec *handoff) ([]byte, error) {
	data, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	return append([]byte{hoMagic, hoVersion}, data...), nil
}

func decodeHandoff(v []byte) (*handoff, bool) {
	if len(v) < 2 || v[0] != hoMagic || v[1] == 0 || v[1] > hoVersion {
		return nil, false
	}
	var rec handoff
	if json.Unmarshal(v[2:], &rec) != nil || rec.ID == "" {
		return nil, false
	}
	return &rec, true
}

// rTTL is what is left of a record's life.
func (h *handoffs) rTTL(rec *handoff) time.Duration {
	return max(time.Until(rec.Created.Add(h.a.t.HandoffTTL)), time.Second)
}

// interceptScript decides, in one round trip, what a user's message means
// for the handoff. KEYS: wait, last. ARGV: mode, text, ttl ms.
//
//	mode "btn":  the handoff button; returns the remembered question, or ""
//	             after opening the prompt
//	mode "cmd":  a command or button; closes the prompt, returns 1 if it was open
//	mode "text": a question; returns 1 if the prompt was open (the text is
//	             the question), else remembers it and returns 0
var interceptScript = redis.NewScript(`
if ARGV[1] == "btn" then
  local q = redis.call("GET", KEYS[2])
  if q then return q end
  redis.call("SET", KEYS[1], "1", "PX", ARGV[3])
  return ""
end
local open = redis.call("DEL", KEYS[1])
if ARGV[1] == "text" and open == 0 then
  redis.call("SET", KEYS[2], ARGV[2], "PX", ARGV[3])
end
return open`)

// rIntercept is intercept with the state in Redis.
func (h *handoffs) rIntercept(ctx context.Context, req *bot.Request) *bot.Response {
	sess := hoHash(req.SessionKey())
	keys := []string{h.rkey("ho-wait", sess), h.rkey("ho-last", sess)}
	ttl := strconv.FormatInt(h.a.t.QuestionTTL.Milliseconds(), 10)
	lang := reqLang(req)
	cmd, _, isCmd := bot.ParseCommand(req.Text)
	c := h.shared.Client()
	switch {
	case strings.HasPrefix(req.Action, bot.ActHandoff):
		q, err := interceptScript.Run(ctx, c, keys, "btn", "", ttl).Text()
		if err = h.shared.Check(err); err != nil {
			h.a.log.Warn("handoff unavailable: the shared store is unreachable", "err", err)
			return say(hmsg(lang, "unavailable"))
		}
		if q == "" {
			return say(hmsg(lang, "ask"))
		}
		return h.open(req, lang, q)
	case isCmd || req.Action != "":
		open, err := interceptScript.Run(ctx, c, keys, "cmd", "", ttl).Int()
		if h.shared.Check(err) == nil && open == 1 && cmd == "cancel" {
			return say(hmsg(lang, "cancelled"))
		}
	case hasWord(req.Text):
		open, err := interceptScript.Run(ctx, c, keys, "text", req.Text, ttl).Int()
		if err = h.shared.Check(err); err != nil {
			// The question is only not remembered: answer it as usual.
			h.a.log.Warn("cannot remember a question for a handoff", "err", err)
			return nil
		}
		if open == 1 {
			return h.open(req, lang, req.Text)
		}
	}
	return nil
}

// rOpen stores a new record unless the user has an unanswered one; it
// reports false with already, or an error when Redis is unreachable.
func (h *handoffs) rOpen(rec *handoff, sessionKey string) (already bool, err error) {
	ctx, cancel := h.rctx()
	defer cancel()
	c := h.shared.Client()
	owner := rec.owner()
	if rec.Platform == "" {
		ok, err := c.SetNX(ctx, h.rkey("ho-open", owner), rec.ID, openFor).Result()
		if err = h.shared.Check(err); err != nil {
			return false, fmt.Errorf("handoff: %w", err)
		}
		if !ok {
			return true, nil
		}
	}
	if err := h.rSave(ctx, rec, func(p redis.Pipeliner) {
		p.SAdd(ctx, h.rkey("ho-user", owner), rec.ID)
		p.PExpire(ctx, h.rkey("ho-user", owner), h.a.t.HandoffTTL)
		if sessionKey != "" {
			p.Del(ctx, h.rkey("ho-last", hoHash(sessionKey))) // the question now lives only in the record
		}
	}); err != nil {
		if rec.Platform == "" {
			_ = c.Del(ctx, h.rkey("ho-open", owner)).Err()
		}
		return false, err
	}
	return false, nil
}

// rSave writes the record (with more commands in the same transaction).
func (h *handoffs) rSave(ctx context.Context, rec *handoff, more func(p redis.Pipeliner)) error {
	data, err := encodeHandoff(rec)
	if err != nil {
		return fmt.Errorf("handoff: encode: %w", err)
	}
	_, err = h.shared.Client().TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, h.rkey("ho", rec.ID), data, h.rTTL(rec))
		if more != nil {
			more(p)
		}
		return nil
	})
	if err = h.shared.Check(err); err != nil {
		return fmt.Errorf("handoff: store: %w", err)
	}
	return nil
}

// rLink records that a staff chat message stands for handoff id.
func (h *handoffs) rLink(id string, msgID int) {
	ctx, cancel := h.rctx()
	defer cancel()
	err := h.shared.Check(h.shared.Client().Set(ctx, h.rkey("ho-msg", strconv.Itoa(msgID)), id, h.a.t.HandoffTTL).Err())
	if err != nil {
		h.a.log.Error("cannot link a staff message to its handoff: replies to it will not reach the user", "handoff", id, "err", err)
	}
}

// errHandoffStore means the shared store could not be read.
var errHandoffStore = errors.New("handoff store unavailable")

// rLookup finds the handoff of a staff chat message: known is false when
// the message is not a handoff's; rec is nil when the handoff is gone.
func (h *handoffs) rLookup(msgID int) (rec *handoff, known bool, err error) {
	ctx, cancel := h.rctx()
	defer cancel()
	id, err := h.shared.Client().Get(ctx, h.rkey("ho-msg", strconv.Itoa(msgID))).Result()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err = h.shared.Check(err); err != nil {
		return nil, false, fmt.Errorf("%w: %w", errHandoffStore, err)
	}
	rec, err = h.rGet(ctx, id)
	return rec, true, err
}

// rGet reads a record; nil when it is gone (expired, forgotten, or of a
// newer format).
func (h *handoffs) rGet(ctx context.Context, id string) (*handoff, error) {
	v, err := h.shared.Client().Get(ctx, h.rkey("ho", id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err = h.shared.Check(err); err != nil {
		return nil, fmt.Errorf("%w: %w", errHandoffStore, err)
	}
	rec, ok := decodeHandoff(v)
	if !ok {
		return nil, nil
	}
	return rec, nil
}

// rAnswered counts a staff reply: the record keeps its expiry and is not
// brought back if it was deleted meanwhile; the user may ask again.
func (h *handoffs) rAnswered(rec *handoff) {
	ctx, cancel := h.rctx()
	defer cancel()
	cur, err := h.rGet(ctx, rec.ID)
	if err == nil && cur != nil {
		cur.Replies++
		var data []byte
		if data, err = encodeHandoff(cur); err == nil {
			err = h.shared.Client().SetArgs(ctx, h.rkey("ho", cur.ID), data, redis.SetArgs{Mode: "XX", KeepTTL: true}).Err()
		}
	}
	if err == nil && rec.Platform == "" {
		err = h.shared.Client().Del(ctx, h.rkey("ho-open", rec.owner())).Err()
	}
	if err = h.shared.Check(err); err != nil {
		h.a.log.Warn("cannot count a staff reply on a handoff", "handoff", rec.ID, "err", err)
	}
}

// rForget deletes the records of owner and, for a Telegram user, the
// remembered question and the prompt of sessionKey.
func (h *handoffs) rForget(ctx context.Context, owner, sessionKey string) error {
	c := h.shared.Client()
	userKey := h.rkey("ho-user", owner)
	ids, err := c.SMembers(ctx, userKey).Result()
	if err = h.shared.Check(err); err != nil {
		return fmt.Errorf("telegram: forget handoffs: %w", err)
	}
	keys := []string{userKey, h.rkey("ho-open", owner)}
	for _, id := range ids {
		keys = append(keys, h.rkey("ho", id))
	}
	if sessionKey != "" {
		s := hoHash(sessionKey)
		keys = append(keys, h.rkey("ho-last", s), h.rkey("ho-wait", s))
	}
	if err := h.shared.Check(c.Del(ctx, keys...).Err()); err != nil {
		return fmt.Errorf("telegram: forget handoffs: %w", err)
	}
	return nil
}
