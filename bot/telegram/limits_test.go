package telegram_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/impbot/impbot/bot/telegram"
	"github.com/impbot/impbot/bot/telegram/telegramtest"
)

// maxInWindow returns the largest number of calls (to chat, or to any chat
// when chat is 0) the fake received within any interval of length per.
func maxInWindow(calls []telegramtest.Call, chat int64, per time.Duration) int {
	var ts []time.Time
	for _, c := range calls {
		if chat == 0 || c.Params.Get("chat_id") == fmt.Sprint(chat) {
			ts = append(ts, c.Time)
		}
	}
	best := 0
	for i := range ts {
		n := 0
		for j := range ts {
			if !ts[j].Before(ts[i]) && ts[j].Sub(ts[i]) < per {
				n++
			}
		}
		best = max(best, n)
	}
	return best
}

// TestSendLimitsDefaults bursts replies with the default limits: Telegram
// must never receive more than 30 messages in any one-second window (no
// burst on top), nor more than one per second in a chat. Load can only
// spread the sends out, never make the assertions fail.
func TestSendLimitsDefaults(t *testing.T) {
	t.Parallel()
	srv := telegramtest.New(t)
	start(t, srv, echo(), func(c *telegram.Config) {
		c.Tuning.ChatLimit, c.Tuning.GroupLimit, c.Tuning.GlobalLimit = telegram.Window{}, telegram.Window{}, telegram.Window{}
	})
	const chats = 44
	for c := int64(1); c <= chats; c++ {
		srv.PushMessage(telegramtest.Msg{ChatID: 300 + c, From: user(300 + c), Text: "q"})
	}
	for i := range 2 { // two questions from one chat
		srv.PushMessage(telegramtest.Msg{ChatID: 299, From: user(299), Text: fmt.Sprint("again ", i)})
	}
	srv.WaitFor(t, wait, "every reply", func() bool { return len(srv.Sent()) == chats+2 })
	calls := srv.Calls("sendMessage")
	t.Logf("%d messages in %v; at most %d in any second overall, %d in any second to one chat",
		len(calls), calls[len(calls)-1].Time.Sub(calls[0].Time).Round(time.Millisecond),
		maxInWindow(calls, 0, time.Second), maxInWindow(calls, 299, time.Second))
	if n := maxInWindow(calls, 0, time.Second); n > 30 {
		t.Errorf("%d messages sent within one second, Telegram allows 30", n)
	}
	if n := maxInWindow(calls, 299, time.Second); n > 1 {
		t.Errorf("%d messages to one chat within one second, Telegram allows 1", n)
	}
}

// TestSendLimitsGroup checks a group's own limit (20 per minute by default;
// shortened here) on top of the per-chat one.
func TestSendLimitsGroup(t *testing.T) {
	t.Parallel()
	srv := telegramtest.New(t)
	start(t, srv, echo(), func(c *telegram.Config) {
		c.Tuning.ChatLimit = telegram.Window{N: 1, Per: 20 * time.Millisecond}
		c.Tuning.GroupLimit = telegram.Window{N: 3, Per: 200 * time.Millisecond}
	})
	const group = -1001
	for i := range 8 {
		srv.PushMessage(telegramtest.Msg{ChatID: group, From: user(77), Text: fmt.Sprintf("/help %d", i)})
	}
	for i := range 8 {
		srv.PushMessage(telegramtest.Msg{ChatID: 78, From: user(78), Text: fmt.Sprint("p", i)})
	}
	srv.WaitFor(t, wait, "every reply", func() bool { return len(srv.SentTo(group)) == 8 && len(srv.SentTo(78)) == 8 })
	calls := srv.Calls("sendMessage")
	if n := maxInWindow(calls, group, 200*time.Millisecond); n > 3 {
		t.Errorf("%d messages to the group within its window, limit 3", n)
	}
	if n := maxInWindow(calls, group, 20*time.Millisecond); n > 1 {
		t.Errorf("%d messages to the group within the per-chat window, limit 1", n)
	}
	if n := maxInWindow(calls, 78, 20*time.Millisecond); n > 1 {
		t.Errorf("%d messages to a private chat within the per-chat window, limit 1", n)
	}
}
