package telegram

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/impbot/impbot/bot"
)

// outMsg is one message waiting to be sent.
type outMsg struct {
	chatID  int64
	text    string // Telegram HTML, or plain text when plain is set
	plain   bool
	replyTo int
	markup  any // tgbotapi.InlineKeyboardMarkup, tgbotapi.ForceReply or nil
	// sent, if set, is called with the message Telegram created.
	sent func(m tgbotapi.Message)
	// handoff, if set, is the handoff whose staff message this is (sent
	// links them; kept so a restored message links too).
	handoff string
	// key is the message's record in the durable outbox (nil when none).
	key []byte
	// flushed, when set, marks a flush point: nothing is sent, it is
	// closed once the messages queued before it have left.
	flushed chan struct{}
}

// flushChat waits until the messages queued so far for chatID have been
// sent (or dropped), or ctx ends. The marker is never stored.
func (o *outbox) flushChat(ctx context.Context, chatID int64) {
	m := &outMsg{chatID: chatID, flushed: make(chan struct{})}
	o.push([]*outMsg{m})
	select {
	case <-m.flushed:
	case <-ctx.Done():
	}
}

// chatQueue holds one chat's pending messages; one goroutine at a time
// sends them, in order.
type chatQueue struct {
	msgs    []*outMsg
	running bool
	lims    []*windowLimiter // the chat's own limits
	idle    time.Time
}

// outbox sends messages with a per-chat and a global throttle, retrying
// 429s after the delay Telegram asks for and 5xx and network errors with
// backoff. Messages to one chat leave in the order they were queued.
type outbox struct {
	a      *Adapter
	global *windowLimiter

	mu      sync.Mutex
	queues  map[int64]*chatQueue
	pending int
	drained chan struct{} // closed (and replaced) when pending drops to 0
	lastGC  time.Time
	ctx     context.Context
	wg      sync.WaitGroup
}

func newOutbox(a *Adapter) *outbox {
	return &outbox{
		a:       a,
		global:  newWindowLimiter(a.t.GlobalLimit),
		queues:  map[int64]*chatQueue{},
		drained: make(chan struct{}),
		ctx:     context.Background(),
	}
}

// start sets the context that bounds sending (cancelled when the shutdown
// deadline passes).
func (o *outbox) start(ctx context.Context) {
	o.mu.Lock()
	o.ctx = ctx
	o.mu.Unlock()
}

func (o *outbox) newLimiters(chatID int64) []*windowLimiter {
	lims := []*windowLimiter{newWindowLimiter(o.a.t.ChatLimit)}
	if chatID < 0 { // groups, supergroups and channels
		lims = append(lims, newWindowLimiter(o.a.t.GroupLimit))
	}
	return lims
}

// acquire takes a slot in the chat's limits and in the global one; release
// them when the send has finished.
func (o *outbox) acquire(ctx context.Context, q *chatQueue) (release func(), err error) {
	var rels []func()
	release = func() {
		for _, r := range rels {
			r()
		}
	}
	for _, l := range append(q.lims[:len(q.lims):len(q.lims)], o.global) {
		r, err := l.acquire(ctx)
		if err != nil {
			release()
			return nil, err
		}
		rels = append(rels, r)
	}
	return release, nil
}

// enqueue queues messages for one chat, in order. With a store, they are
// written to disk first, so that a reply queued before its update is
// confirmed to Telegram survives a crash (see durable.go).
func (o *outbox) enqueue(msgs ...*outMsg) {
	if len(msgs) == 0 {
		return
	}
	o.persist(msgs)
	o.push(msgs)
}

// push queues messages in memory.
func (o *outbox) push(msgs []*outMsg) {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := time.Now()
	if now.Sub(o.lastGC) > time.Minute {
		for id, q := range o.queues {
			if !q.running && len(q.msgs) == 0 && now.Sub(q.idle) > time.Minute && limitersIdle(q.lims) {
				delete(o.queues, id)
			}
		}
		o.lastGC = now
	}
	for _, m := range msgs {
		q := o.queues[m.chatID]
		if q == nil {
			q = &chatQueue{lims: o.newLimiters(m.chatID)}
			o.queues[m.chatID] = q
		}
		q.msgs = append(q.msgs, m)
		o.pending++
		if !q.running {
			q.running = true
			o.wg.Add(1)
			go o.run(o.ctx, q)
		}
	}
}

func (o *outbox) run(ctx context.Context, q *chatQueue) {
	defer o.wg.Done()
	for {
		o.mu.Lock()
		if len(q.msgs) == 0 {
			q.running = false
			q.idle = time.Now()
			o.mu.Unlock()
			return
		}
		m := q.msgs[0]
		o.mu.Unlock()

		if m.flushed != nil {
			close(m.flushed)
		} else if o.deliver(ctx, q, m) {
			o.forget(m)
		}

		o.mu.Lock()
		q.msgs[0] = nil
		q.msgs = q.msgs[1:]
		o.pending--
		if o.pending == 0 {
			close(o.drained)
			o.drained = make(chan struct{})
		}
		o.mu.Unlock()
	}
}

// wait returns when every queued message has been sent (or given up), or
// when ctx ends; it reports how many are still pending.
func (o *outbox) wait(ctx context.Context) int {
	for {
		o.mu.Lock()
		n, ch := o.pending, o.drained
		o.mu.Unlock()
		if n == 0 {
			return 0
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return n
		}
	}
}

// throttle waits for the per-chat and the global send limits. Telegram's
// limits are per bot token, not per replica: with a cluster the buckets
// are shared through Redis (named by a hash of the token), so N replicas
// together stay under them; with Redis unreachable each replica falls back
// to its own buckets.
func (o *outbox) throttle(ctx context.Context, q *chatQueue, chatID int64) (release func(), err error) {
	t := o.a.t
	if c := o.a.cfg.Cluster; c != nil {
		// A window of N per Per becomes a bucket of N refilled at N/Per.
		take := func(name string, w Window) error {
			return c.Take(ctx, "tg-send:"+o.a.tokenID+":"+name, float64(w.N)/w.Per.Seconds(), w.N)
		}
		chat := strconv.FormatInt(chatID, 10)
		err := take("chat:"+chat, t.ChatLimit)
		if err == nil && chatID < 0 {
			err = take("group:"+chat, t.GroupLimit)
		}
		if err == nil {
			err = take("global", t.GlobalLimit)
		}
		if err == nil || ctx.Err() != nil {
			return func() {}, err
		}
	}
	return o.acquire(ctx, q)
}

// deliver sends one message, retrying until it is sent, Telegram refuses
// it for good (done is true then), or ctx ends (done is false: the message
// stays in the durable outbox for the next start).
func (o *outbox) deliver(ctx context.Context, q *chatQueue, m *outMsg) (done bool) {
	a := o.a
	bo := a.backoff()
	chat := bot.Pseudonym(platform + ":" + strconv.FormatInt(m.chatID, 10))
	for attempt := 1; ; attempt++ {
		release, err := o.throttle(ctx, q, m.chatID)
		if err != nil {
			a.log.Error("reply not delivered before shutdown", "chat", chat)
			return false
		}
		cfg := tgbotapi.NewMessage(m.chatID, m.text)
		if !m.plain {
			cfg.ParseMode = tgbotapi.ModeHTML
		}
		cfg.DisableWebPagePreview = true
		cfg.ReplyMarkup = m.markup
		if m.replyTo != 0 {
			cfg.ReplyToMessageID = m.replyTo
			cfg.AllowSendingWithoutReply = true
		}
		cctx, cancel := context.WithTimeout(ctx, a.t.RequestTimeout)
		sent, err := a.api(cctx).Send(cfg)
		cancel()
		release()
		if err == nil {
			if m.sent != nil {
				m.sent(sent)
			}
			a.stats.MessageOut(platform)
			return true
		}
		e := classify(ctx, err)
		if e.kind == errCanceled {
			a.log.Error("reply not delivered before shutdown", "chat", chat)
			return false
		}
		a.stats.APIError(platform, e.kind.label())
		var wait time.Duration
		switch e.kind {
		case errFlood:
			wait = time.Duration(max(e.retryAfter, 1)) * a.t.RetryAfterUnit
			a.log.Warn("sendMessage: flood control, waiting", "chat", chat, "retry_after", e.retryAfter, "attempt", attempt)
		case errMigrated:
			a.log.Info("group moved to a supergroup, resending there", "chat", chat)
			m.chatID = e.migrateTo
			continue
		case errTransient:
			wait = bo.next()
			a.log.Warn("sendMessage failed, retrying", "chat", chat, "err", e.String(), "in", wait, "attempt", attempt)
		default:
			if !m.plain && e.code == 400 && strings.Contains(strings.ToLower(e.desc), "entities") {
				// Telegram could not parse our HTML: send the text without markup
				// rather than nothing.
				a.log.Warn("sendMessage: markup refused, sending plain text", "chat", chat, "err", e.String())
				m.text, m.plain = PlainText(m.text), true
				continue
			}
			a.log.Warn("sendMessage refused, reply dropped", "chat", chat, "err", e.String())
			return true
		}
		if !sleep(ctx, wait) {
			a.log.Error("reply not delivered before shutdown", "chat", chat)
			return false
		}
	}
}

func limitersIdle(lims []*windowLimiter) bool {
	for _, l := range lims {
		if !l.idle() {
			return false
		}
	}
	return true
}
