package telegram_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/impbot/impbot/bot"
	"github.com/impbot/impbot/bot/cluster"
	"github.com/impbot/impbot/bot/redistest"
	"github.com/impbot/impbot/bot/telegram"
	"github.com/impbot/impbot/bot/telegram/telegramtest"
)

const hookSecret = "hook-secret_1"

// replicas runs n adapters in webhook mode sharing one Redis, each with
// its own router (as separate processes would), against one fake Bot API.
func replicas(t *testing.T, srv *telegramtest.Server, rds *redistest.Server, n int) []*harness {
	t.Helper()
	var hs []*harness
	for range n {
		r := newRouter(t, bot.Options{OrgName: "Test Org", Contact: "help@example.org"})
		c, err := cluster.Open(cluster.Options{URL: rds.URL(), Prefix: "hobot", Timeout: 500 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		h := start(t, srv, r, func(cfg *telegram.Config) {
			cfg.StaffChatID = staffChat
			cfg.Cluster = c
			cfg.Webhook = &telegram.WebhookConfig{URL: "https://bot.example.org/hook", SecretToken: hookSecret}
		})
		r.AddForgetter(h.a)
		h.waitReady()
		hs = append(hs, h)
	}
	return hs
}

// deliver posts a queued update to one replica's webhook, as Telegram does
// (again while the replica answers 503), and fails unless it is accepted.
func deliver(t *testing.T, srv *telegramtest.Server, h *harness, updateID int) []byte {
	t.Helper()
	raw := srv.Take(updateID)
	if raw == nil {
		t.Fatalf("update %d is not queued", updateID)
	}
	post(t, h, raw)
	return raw
}

func post(t *testing.T, h *harness, raw []byte) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		req := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(string(raw)))
		req.Header.Set(telegram.SecretHeader, hookSecret)
		rec := httptest.NewRecorder()
		h.a.WebhookHandler().ServeHTTP(rec, req)
		if rec.Code == http.StatusOK {
			return
		}
		if rec.Code != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("webhook answered %d: %s", rec.Code, rec.Body)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// settleAll waits until the replicas together have processed the answer
// to every message the fake recorded.
func settleAll(t *testing.T, hs []*harness) {
	t.Helper()
	eventually(t, "the replicas to see every sent message", func() bool {
		n := 0
		for _, h := range hs {
			_, out, _ := h.stats.get()
			n += out
		}
		return n >= len(hs[0].srv.Sent())
	})
}

func countWith(ms []telegramtest.Sent, s string) int {
	n := 0
	for _, m := range ms {
		if strings.Contains(m.Text, s) {
			n++
		}
	}
	return n
}

// TestHandoffAcrossReplicas: the question is asked through replica A, the
// handoff opened through B, answered by staff through A, and through B
// after the Reply button: the user gets each staff answer exactly once,
// also when Telegram delivers a staff reply twice. /forget on one replica
// closes the handoff for all.
func TestHandoffAcrossReplicas(t *testing.T) {
	t.Parallel()
	srv := telegramtest.New(t)
	rds := redistest.Start(t)
	hs := replicas(t, srv, rds, 2)
	a, b := hs[0], hs[1]
	u := user(42)
	const question = "My employer <Acme & Co> wants me to start before my permit arrives, is that OK?"

	deliver(t, srv, a, srv.PushMessage(telegramtest.Msg{ChatID: 42, From: u, Text: question}))
	answer := srv.WaitSent(t, 42, 1, wait)[0]
	btn := buttonWith(t, answer, bot.ActHandoff)
	settleAll(t, hs)

	// The button press lands on B, which knows the question A saw.
	up, _ := srv.PushCallback(42, u, answer.MessageID, btn.CallbackData)
	deliver(t, srv, b, up)
	fwd := srv.WaitSent(t, staffChat, 1, wait)[0]
	if !strings.Contains(fwd.Text, telegram.Escape(question)) || revealsUser42(fwd.Text) {
		t.Fatalf("staff chat got:\n%s", fwd.Text)
	}
	if confirm := srv.WaitSent(t, 42, 2, wait)[1]; !strings.Contains(confirm.Text, "passed your question to our team") {
		t.Fatalf("user told %q", confirm.Text)
	}
	settleAll(t, hs)

	// A second press, on A: the question was used, so A asks for one; the
	// question typed next lands on B, which knows the prompt is open, and
	// refuses it while the first is unanswered.
	up, _ = srv.PushCallback(42, u, answer.MessageID, btn.CallbackData)
	deliver(t, srv, a, up)
	if got := srv.WaitSent(t, 42, 3, wait)[2]; !strings.Contains(got.Text, "What would you like to ask our team") {
		t.Fatalf("second press: %q", got.Text)
	}
	deliver(t, srv, b, srv.PushMessage(telegramtest.Msg{ChatID: 42, From: u, Text: "And my spouse?"}))
	if got := srv.WaitSent(t, 42, 4, wait)[3]; !strings.Contains(got.Text, "already with our team") {
		t.Fatalf("question after the prompt: %q", got.Text)
	}

	// Staff reply to the forwarded message; the update reaches A, and is
	// delivered again to B (a redelivery): the user gets it once.
	raw := deliver(t, srv, a, srv.PushMessage(telegramtest.Msg{ChatID: staffChat, From: staffer,
		Text: "No: wait for <the permit> & its approval.", ReplyTo: fwd.MessageID}))
	got := srv.WaitSent(t, 42, 5, wait)[4]
	if !strings.Contains(got.Text, "Answer from our team") || !strings.Contains(got.Text, "wait for &lt;the permit&gt; &amp; its approval") {
		t.Fatalf("user got %q", got.Text)
	}
	post(t, b, raw)
	ack := srv.WaitSent(t, staffChat, 2, wait)[1]
	if !strings.Contains(ack.Text, "Sent to the user") {
		t.Fatalf("staff told %q", ack.Text)
	}
	settleAll(t, hs)

	// The Reply button on B opens a prompt; the answer to the prompt, on A,
	// reaches the user.
	reply := buttonWith(t, fwd, "hr:")
	up, _ = srv.PushCallback(staffChat, staffer, fwd.MessageID, reply.CallbackData)
	deliver(t, srv, b, up)
	prompt := srv.WaitSent(t, staffChat, 3, wait)[2]
	if prompt.Markup == nil || !prompt.Markup.ForceReply {
		t.Fatalf("Reply did not open a prompt: %+v", prompt)
	}
	settleAll(t, hs)
	deliver(t, srv, a, srv.PushMessage(telegramtest.Msg{ChatID: staffChat, From: staffer, Text: "Also see /contact.", ReplyTo: prompt.MessageID}))
	if got := srv.WaitSent(t, 42, 6, wait)[5]; !strings.Contains(got.Text, "Also see /contact.") {
		t.Fatalf("second staff reply: %q", got.Text)
	}
	settleAll(t, hs)
	if n := countWith(srv.SentTo(42), "Answer from our team"); n != 2 || countWith(srv.SentTo(42), "wait for &lt;the permit") != 1 {
		t.Fatalf("the user got %d staff answers, want 2 (each once)", n)
	}

	// /forget through B deletes the handoff: a reply through A is refused.
	deliver(t, srv, b, srv.PushMessage(telegramtest.Msg{ChatID: 42, From: u, Text: "/forget"}))
	if got := srv.WaitSent(t, 42, 7, wait)[6]; !strings.Contains(got.Text, "deleted") {
		t.Fatalf("/forget: %q", got.Text)
	}
	deliver(t, srv, a, srv.PushMessage(telegramtest.Msg{ChatID: staffChat, From: staffer, Text: "One more thing", ReplyTo: fwd.MessageID}))
	if gone := srv.WaitSent(t, staffChat, 5, wait)[4]; !strings.Contains(gone.Text, "no longer open") {
		t.Fatalf("staff told %q", gone.Text)
	}
	settleAll(t, hs)
	if n := len(srv.SentTo(42)); n != 7 {
		t.Fatalf("user got %d messages, want 7", n)
	}
	// Nothing of the user is left in Redis (what stays: staff message ids
	// pointing at the deleted handoff, until they expire).
	for _, pat := range []string{"hobot:ho:*", "hobot:ho-user:*", "hobot:ho-open:*", "hobot:ho-last:*", "hobot:ho-wait:*"} {
		if keys, err := rds.Do("KEYS", pat); err != nil || keys != "*0" {
			t.Fatalf("keys %s left after /forget: %q %v", pat, keys, err)
		}
	}
	if keys, _ := rds.Do("KEYS", "hobot:ho-msg:*"); keys == "*0" {
		t.Fatal("no staff message links: the test does not look at the right keys")
	}
	for _, h := range hs {
		if strings.Contains(h.logs.String(), "Acme") {
			t.Fatal("a replica logged the question text")
		}
	}
}

// TestHandoffRedisDown: with Redis stopped the handoff button says the team
// is briefly unreachable (nothing crashes), and the FAQ answers go on.
func TestHandoffRedisDown(t *testing.T) {
	t.Parallel()
	srv := telegramtest.New(t)
	rds := redistest.Start(t)
	hs := replicas(t, srv, rds, 1)
	u := user(44)
	deliver(t, srv, hs[0], srv.PushMessage(telegramtest.Msg{ChatID: 44, From: u, Text: "/contact"}))
	contact := srv.WaitSent(t, 44, 1, wait)[0]
	btn := buttonWith(t, contact, bot.ActHandoff)
	settleAll(t, hs)
	rds.Stop()
	up, _ := srv.PushCallback(44, u, contact.MessageID, btn.CallbackData)
	deliver(t, srv, hs[0], up)
	if got := srv.WaitSent(t, 44, 2, wait)[1]; !strings.Contains(got.Text, "cannot reach our team") {
		t.Fatalf("with redis down the user was told %q", got.Text)
	}
	deliver(t, srv, hs[0], srv.PushMessage(telegramtest.Msg{ChatID: 44, From: u, Text: "what is a pgwp"}))
	if got := srv.WaitSent(t, 44, 3, wait)[2]; !strings.Contains(strings.ToLower(got.Text), "post-graduation") {
		t.Fatalf("FAQ with redis down: %q", got.Text)
	}
}
