package telegram_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"go.etcd.io/bbolt"

	"github.com/impbot/impbot/bot"
	"github.com/impbot/impbot/bot/telegram"
	"github.com/impbot/impbot/bot/telegram/telegramtest"
)

func TestPrivateQuestionGetsHTMLAnswer(t *testing.T) {
	t.Parallel()
	srv := telegramtest.New(t)
	h := start(t, srv, newRouter(t, bot.Options{}), nil)
	srv.PushMessage(telegramtest.Msg{ChatID: 42, From: user(42), Text: "Can I do a working holiday in Canada?"})
	sent := srv.WaitSent(t, 42, 1, wait)
	m := sent[0]
	if m.ParseMode != "HTML" {
		t.Errorf("parse_mode = %q, want HTML", m.ParseMode)
	}
	if !strings.Contains(m.Text, "<b>International Experience Canada") {
		t.Errorf("answer is not the IEC article in HTML:\n%s", m.Text)
	}
	if m.ReplyTo != 0 {
		t.Errorf("private answers should not quote the question (reply_to %d)", m.ReplyTo)
	}
	if len(m.Buttons()) == 0 {
		t.Error("answer has no buttons")
	}
	// Start-up: command menu set (English and French), webhook removed.
	cmds := srv.Calls("setMyCommands")
	if len(cmds) != 2 {
		t.Fatalf("setMyCommands called %d times, want 2", len(cmds))
	}
	for _, name := range []string{"start", "help", "eligibility", "contact", "forget", "cancel", "back", "restart", "summary"} {
		if !strings.Contains(cmds[0].Params.Get("commands"), `"command":"`+name+`"`) {
			t.Errorf("command %s missing from the menu: %s", name, cmds[0].Params.Get("commands"))
		}
	}
	if cmds[1].Params.Get("language_code") != "fr" {
		t.Errorf("second menu language = %q, want fr", cmds[1].Params.Get("language_code"))
	}
	if len(srv.Calls("deleteWebhook")) != 1 {
		t.Error("deleteWebhook not called before polling")
	}
	ups := srv.Calls("getUpdates")
	if got := ups[0].Params.Get("allowed_updates"); got != `["message","callback_query"]` {
		t.Errorf("allowed_updates = %s", got)
	}
	eventually(t, "MessageIn 1 and MessageOut 1", func() bool {
		in, out, _ := h.stats.get()
		return in == 1 && out == 1
	})
}

func TestStartCommandGreets(t *testing.T) {
	t.Parallel()
	srv := telegramtest.New(t)
	start(t, srv, newRouter(t, bot.Options{}), nil)
	srv.PushMessage(telegramtest.Msg{ChatID: 42, From: user(42), Text: "/start"})
	m := srv.WaitSent(t, 42, 1, wait)[0]
	if !strings.Contains(m.Text, "International Mobility Program") || !strings.Contains(m.Text, "/eligibility") {
		t.Errorf("/start does not greet and explain:\n%s", m.Text)
	}
}

func TestButtonPressRunsActionAndIsAcknowledged(t *testing.T) {
	t.Parallel()
	srv := telegramtest.New(t)
	h := start(t, srv, newRouter(t, bot.Options{}), nil)
	srv.PushMessage(telegramtest.Msg{ChatID: 42, From: user(42), Text: "Can I do a working holiday in Canada?"})
	answer := srv.WaitSent(t, 42, 1, wait)[0]
	var btn telegramtest.Button
	for _, b := range answer.Buttons() {
		if strings.HasPrefix(b.CallbackData, bot.ActArticle) {
			btn = b
			break
		}
	}
	if btn.CallbackData == "" {
		t.Fatalf("no article button in %+v", answer.Buttons())
	}
	_, qid := srv.PushCallback(42, user(42), answer.MessageID, btn.CallbackData)
	sent := srv.WaitSent(t, 42, 2, wait)
	if !strings.Contains(sent[1].Text, "<b>"+btn.Text+"</b>") {
		t.Errorf("pressing %q did not open that article:\n%s", btn.Text, sent[1].Text)
	}
	acks := srv.Calls("answerCallbackQuery")
	if len(acks) != 1 || acks[0].Params.Get("callback_query_id") != qid {
		t.Errorf("callback not acknowledged: %+v", acks)
	}
	if in, _, _ := h.stats.get(); in != 2 {
		t.Errorf("MessageIn = %d, want 2", in)
	}
}

func TestLongActionsFitCallbackData(t *testing.T) {
	t.Parallel()
	srv := telegramtest.New(t)
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "s.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h := start(t, srv, echo(), func(c *telegram.Config) { c.DB = db })
	srv.PushMessage(telegramtest.Msg{ChatID: 42, From: user(42), Text: "buttons:4"})
	m := srv.WaitSent(t, 42, 1, wait)[0] // the fake refuses callback_data over 64 bytes
	bs := m.Buttons()
	if len(bs) != 4 {
		t.Fatalf("got %d buttons", len(bs))
	}
	if bs[0].CallbackData != "a:short" {
		t.Errorf("short action changed: %q", bs[0].CallbackData)
	}
	long := bs[1].CallbackData
	if len(long) > 64 || strings.Contains(long, "very-long") {
		t.Errorf("long action not mapped to a short id: %q", long)
	}
	if rows := m.Markup.InlineKeyboard; len(rows) != 3 || len(rows[2]) != 2 {
		t.Errorf("want one row per button and 👍/👎 side by side, got %+v", rows)
	}
	srv.PushCallback(42, user(42), m.MessageID, long)
	got := srv.WaitSent(t, 42, 2, wait)[1]
	if want := "action: a:" + strings.Repeat("very-long-article-id-", 10); got.Text != want {
		t.Errorf("press ran %q, want %q", got.Text, want)
	}
	// The mapping survives a restart through the store.
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	start(t, srv, echo(), func(c *telegram.Config) { c.DB = db })
	srv.PushCallback(42, user(42), m.MessageID, long)
	got = srv.WaitSent(t, 42, 3, wait)[2]
	if !strings.HasPrefix(got.Text, "action: a:very-long") {
		t.Errorf("after a restart the press ran %q", got.Text)
	}
	// An unknown id falls back to the help, it is not passed on as an action.
	srv.PushCallback(42, user(42), m.MessageID, "~unknownid")
	got = srv.WaitSent(t, 42, 4, wait)[3]
	if got.Text != "echo: /help" {
		t.Errorf("unknown id gave %q", got.Text)
	}
}

func TestGroupAnswersOnlyWhenAddressed(t *testing.T) {
	t.Parallel()
	srv := telegramtest.New(t)
	start(t, srv, echo(), nil)
	const group = -100123
	other := telegramtest.User{ID: 77, Name: "Other bot", IsBot: true, Username: "other_bot"}
	ignored := []telegramtest.Msg{
		{ChatID: group, From: user(1), Text: "what is an open work permit?"},
		{ChatID: group, From: user(1), Text: "/help@other_bot"},
		{ChatID: group, From: user(1), Text: "ask @imp_test_bot_fan about it"},
		{ChatID: group, From: other, Text: "@imp_test_bot what is IEC?"},
		{ChatID: group, From: user(1), Text: "replying to someone else", ReplyTo: 3, ReplyToFrom: &telegramtest.User{ID: 5, Name: "P"}},
	}
	for _, m := range ignored {
		srv.PushMessage(m)
	}
	answered := []struct {
		msg  telegramtest.Msg
		echo string
	}{
		{telegramtest.Msg{ChatID: group, From: user(1), Text: "@imp_test_bot what is IEC?"}, "echo: what is IEC?"},
		{telegramtest.Msg{ChatID: group, From: user(2), Text: "Hey @IMP_Test_Bot, fees?"}, "echo: Hey , fees?"},
		{telegramtest.Msg{ChatID: group, From: user(1), Text: "/help@imp_test_bot"}, "echo: /help"},
		{telegramtest.Msg{ChatID: group, From: user(1), Text: "/start"}, "echo: /start"},
		{telegramtest.Msg{ChatID: group, From: user(3), Text: "and for my spouse?", ReplyTo: 9}, "echo: and for my spouse?"},
	}
	for _, a := range answered {
		srv.PushMessage(a.msg)
	}
	srv.WaitSent(t, group, len(answered), wait)
	// Updates of one chat are handled in order, so the ignored ones (pushed
	// first) were seen before the first answer: nothing more may come.
	srv.PushMessage(telegramtest.Msg{ChatID: group, From: user(1), Text: "@imp_test_bot last"})
	sent := srv.WaitSent(t, group, len(answered)+1, wait)
	if len(sent) != len(answered)+1 {
		t.Fatalf("got %d messages, want %d: %+v", len(sent), len(answered)+1, sent)
	}
	for i, a := range answered {
		if sent[i].Text != a.echo {
			t.Errorf("message %d: got %q, want %q", i, sent[i].Text, a.echo)
		}
		if sent[i].ReplyTo == 0 {
			t.Errorf("message %d does not reply to the question in the group", i)
		}
	}
}

func TestPrivateNeverAnswersBotsOrServiceMessages(t *testing.T) {
	t.Parallel()
	srv := telegramtest.New(t)
	start(t, srv, echo(), nil)
	srv.PushMessage(telegramtest.Msg{ChatID: 42, From: telegramtest.User{ID: 42, IsBot: true, Name: "B"}, Text: "hi"})
	srv.PushRaw(map[string]any{"message": map[string]any{"message_id": 1, "date": 1,
		"chat": map[string]any{"id": 42, "type": "private"}, "from": map[string]any{"id": 42, "first_name": "U"},
		"pinned_message": map[string]any{"message_id": 2, "date": 1, "chat": map[string]any{"id": 42, "type": "private"}}}})
	srv.PushRaw(map[string]any{"message": map[string]any{"message_id": 3, "date": 1,
		"chat": map[string]any{"id": 42, "type": "private"}, "from": map[string]any{"id": 42, "first_name": "U"},
		"sticker": map[string]any{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1, "is_animated": false}}})
	srv.PushMessage(telegramtest.Msg{ChatID: 42, From: user(42), Text: "last"})
	sent := srv.WaitSent(t, 42, 2, wait)
	if len(sent) != 2 || sent[0].Text != "echo:" || sent[1].Text != "echo: last" {
		t.Errorf("want only the sticker (as an empty message) and the last message answered, got %+v", sent)
	}
}

func TestFloodRetryAfterDelaysThenDelivers(t *testing.T) {
	t.Parallel()
	srv := telegramtest.New(t)
	srv.Fail("sendMessage", telegramtest.Flood(3))
	h := start(t, srv, echo(), nil) // RetryAfterUnit: 20ms per second asked
	srv.PushMessage(telegramtest.Msg{ChatID: 42, From: user(42), Text: "q"})
	sent := srv.WaitSent(t, 42, 1, wait)
	if len(sent) != 1 || sent[0].Text != "echo: q" {
		t.Fatalf("got %+v", sent)
	}
	calls := srv.Calls("sendMessage")
	if len(calls) != 2 || calls[0].Status != 429 || calls[1].Status != 200 {
		t.Fatalf("want a 429 then a success, got %d calls", len(calls))
	}
	if gap := calls[1].Time.Sub(calls[0].Time); gap < 60*time.Millisecond {
		t.Errorf("retried after %v, before retry_after (3 × 20ms)", gap)
	}
	if _, _, errs := h.stats.get(); errs["429"] != 1 {
		t.Errorf("APIError counts %v, want one 429", errs)
	}
}

func TestServerErrorsAreRetried(t *testing.T) {
	t.Parallel()
	srv := telegramtest.New(t)
	srv.Fail("getMe", telegramtest.HTMLError(502), telegramtest.APIError(500, "Internal Server Error"))
	srv.Fail("getUpdates", telegramtest.HTMLError(503), telegramtest.Flood(1))
	srv.Fail("sendMessage", telegramtest.HTMLError(502), telegramtest.APIError(502, "Bad Gateway"))
	h := start(t, srv, echo(), nil)
	srv.PushMessage(telegramtest.Msg{ChatID: 42, From: user(42), Text: "q"})
	sent := srv.WaitSent(t, 42, 1, wait)
	if len(sent) != 1 {
		t.Fatalf("got %d messages", len(sent))
	}
	if n := len(srv.Calls("sendMessage")); n != 3 {
		t.Errorf("sendMessage called %d times, want 3", n)
	}
	if n := len(srv.Calls("getMe")); n != 3 {
		t.Errorf("getMe called %d times, want 3", n)
	}
	_, _, errs := h.stats.get()
	if errs["5xx"] != 5 || errs["429"] != 1 {
		t.Errorf("APIError counts %v, want 5 × 5xx and 1 × 429", errs)
	}
	if h.a.Ready() != nil {
		t.Errorf("not ready after recovering: %v", h.a.Ready())
	}
}

func TestMarkupRefusedFallsBackToPlainText(t *testing.T) {
	t.Parallel()
	srv := telegramtest.New(t)
	srv.Fail("sendMessage", telegramtest.APIError(400, "Bad Request: can't parse entities: unsupported start tag"))
	start(t, srv, echo(), nil)
	srv.PushMessage(telegramtest.Msg{ChatID: 42, From: user(42), Text: "**bold** & co"})
	m := srv.WaitSent(t, 42, 1, wait)[0]
	if m.ParseMode != "" || m.Text != "echo: bold & co" {
		t.Errorf("fallback sent %q with parse_mode %q", m.Text, m.ParseMode)
	}
}

func TestRefusedMessageIsDroppedNotRetriedForever(t *testing.T) {
	t.Parallel()
	srv := telegramtest.New(t)
	srv.Fail("sendMessage", telegramtest.APIError(403, "Forbidden: bot was blocked by the user"))
	start(t, srv, echo(), nil)
	srv.PushMessage(telegramtest.Msg{ChatID: 42, From: user(42), Text: "first"})
	srv.PushMessage(telegramtest.Msg{ChatID: 42, From: user(42), Text: "second"})
	sent := srv.WaitSent(t, 42, 1, wait)
	if sent[0].Text != "echo: second" {
		t.Errorf("got %q", sent[0].Text)
	}
	if n := len(srv.Calls("sendMessage")); n != 2 {
		t.Errorf("sendMessage called %d times, want 2 (no retry of a 403)", n)
	}
}

func TestGroupMigratedToSupergroup(t *testing.T) {
	t.Parallel()
	srv := telegramtest.New(t)
	srv.Fail("sendMessage", telegramtest.Fault{Status: 400, ContentType: "application/json",
		Body: `{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1009999}}`})
	start(t, srv, echo(), nil)
	srv.PushMessage(telegramtest.Msg{ChatID: -55, ChatType: "group", From: user(1), Text: "/help"})
	if m := srv.WaitSent(t, -1009999, 1, wait)[0]; m.Text != "echo: /help" {
		t.Errorf("got %q", m.Text)
	}
}

func TestLongReplyIsSplit(t *testing.T) {
	t.Parallel()
	srv := telegramtest.New(t)
	para := strings.TrimSpace(strings.Repeat("**Fees** & conditions apply to this permit 😀. ", 30))
	long := strings.TrimSpace(strings.Repeat(para+"\n\n", 8))
	h := bot.HandlerFunc(func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
		return &bot.Response{Replies: []bot.Reply{
			{Text: long, Buttons: []bot.Button{{Label: "More", Action: "a:x"}}},
			{Text: "second reply"},
		}}, nil
	})
	start(t, srv, h, nil)
	srv.PushMessage(telegramtest.Msg{ChatID: 42, From: user(42), Text: "q"})
	srv.WaitFor(t, wait, "the last reply", func() bool {
		s := srv.SentTo(42)
		return len(s) > 0 && s[len(s)-1].Text == "second reply"
	})
	sent := srv.SentTo(42)
	if len(sent) < 3 {
		t.Fatalf("long reply not split: %d messages", len(sent))
	}
	var total int
	for i, m := range sent[:len(sent)-1] {
		n := len(utf16.Encode([]rune(telegram.PlainText(m.Text))))
		if n > telegram.MaxMessageLen {
			t.Errorf("part %d has %d UTF-16 units", i, n)
		}
		total += strings.Count(m.Text, "<b>Fees</b>")
		if (m.Markup != nil) != (i == len(sent)-2) {
			t.Errorf("part %d: buttons should be under the last part only", i)
		}
	}
	if total != 8*30 {
		t.Errorf("parts hold %d of %d bold words", total, 8*30)
	}
}

func TestBurstDeliversEveryReplyInOrderPerChat(t *testing.T) {
	t.Parallel()
	srv := telegramtest.New(t)
	h := start(t, srv, echo(), func(c *telegram.Config) {
		c.Tuning.ChatLimit = telegram.Window{N: 1, Per: 10 * time.Millisecond} // 10ms between messages to one chat
		c.Tuning.GlobalLimit = telegram.Window{N: 5, Per: 15 * time.Millisecond}
	})
	const chats, per = 5, 10
	for i := 0; i < per; i++ {
		for c := int64(1); c <= chats; c++ {
			srv.PushMessage(telegramtest.Msg{ChatID: 100 + c, From: user(100 + c), Text: fmt.Sprintf("q-%d-%d", c, i)})
		}
	}
	for c := int64(1); c <= chats; c++ {
		sent := srv.WaitSent(t, 100+c, per, wait)
		if len(sent) != per {
			t.Fatalf("chat %d: %d replies, want %d", c, len(sent), per)
		}
		for i, m := range sent {
			if want := fmt.Sprintf("echo: q-%d-%d", c, i); m.Text != want {
				t.Errorf("chat %d reply %d = %q, want %q", c, i, m.Text, want)
			}
		}
		// The per-chat throttle spaced them: 9 gaps of at least ~10ms.
		if span := sent[per-1].Time.Sub(sent[0].Time); span < 80*time.Millisecond {
			t.Errorf("chat %d: %d replies within %v, faster than the per-chat limit", c, per, span)
		}
	}
	eventually(t, "MessageIn and MessageOut for every message", func() bool {
		in, out, _ := h.stats.get()
		return in == chats*per && out == chats*per
	})
}

func TestShutdownMidBurstLosesNoHandledReply(t *testing.T) {
	t.Parallel()
	srv := telegramtest.New(t)
	// The burst is waiting when the bot starts, so the first poll takes it
	// whole and shutdown comes while most replies are still queued.
	texts := map[int]string{}
	var last int
	for i := 0; i < 10; i++ {
		for c := int64(1); c <= 5; c++ {
			text := fmt.Sprintf("q-%d-%d", c, i)
			last = srv.PushMessage(telegramtest.Msg{ChatID: 200 + c, From: user(200 + c), Text: text})
			texts[last] = text
		}
	}
	slow := bot.HandlerFunc(func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
		time.Sleep(2 * time.Millisecond)
		return echo().Handle(ctx, req)
	})
	h := start(t, srv, slow, func(c *telegram.Config) {
		c.Tuning.ChatLimit = telegram.Window{N: 1, Per: 25 * time.Millisecond} // ~250ms to send ten replies to one chat
	})
	srv.WaitFor(t, wait, "the first replies", func() bool { return len(srv.Sent()) >= 5 })
	if n := len(srv.Sent()); n == 50 {
		t.Fatal("the burst was sent before shutdown began; the test did not exercise shutdown")
	}
	if err := h.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	sent := srv.Sent()
	delivered := map[string]int{}
	for _, m := range sent {
		delivered[strings.TrimPrefix(m.Text, "echo: ")]++
	}
	// Every update below the acknowledged offset was handled: its reply was
	// delivered before Run returned, once. The others stay at Telegram.
	acked := srv.Offset()
	if acked != last+1 {
		t.Errorf("acknowledged offset %d, want %d (the whole burst was handled)", acked, last+1)
	}
	for id, text := range texts {
		if id < acked && delivered[text] != 1 {
			t.Errorf("update %d (%s) handled but its reply delivered %d times", id, text, delivered[text])
		}
	}
	if len(sent) != 50 {
		t.Errorf("%d replies delivered before Run returned, want 50", len(sent))
	}
	// After shutdown no update is taken: it stays queued at Telegram.
	srv.PushMessage(telegramtest.Msg{ChatID: 201, From: user(201), Text: "after"})
	if srv.Pending() != 1 {
		t.Errorf("pending updates = %d, want 1", srv.Pending())
	}
}

func TestWebhook(t *testing.T) {
	t.Parallel()
	srv := telegramtest.New(t)
	const secret = "s3cret-Token_1"
	h := start(t, srv, echo(), func(c *telegram.Config) {
		c.Webhook = &telegram.WebhookConfig{URL: "https://bot.example.org/telegram/webhook", SecretToken: secret}
	})
	hook := httptest.NewServer(h.a.WebhookHandler())
	defer hook.Close()
	h.waitReady()

	set := srv.Calls("setWebhook")
	if len(set) != 1 {
		t.Fatalf("setWebhook called %d times", len(set))
	}
	p := set[0].Params
	if p.Get("url") != "https://bot.example.org/telegram/webhook" || p.Get("secret_token") != secret ||
		p.Get("allowed_updates") != `["message","callback_query"]` {
		t.Errorf("setWebhook params: %v", p)
	}
	if n := len(srv.Calls("getUpdates")); n != 0 {
		t.Errorf("webhook mode polled %d times", n)
	}

	post := func(secretHeader *string, body string) int {
		req, _ := http.NewRequest(http.MethodPost, hook.URL, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if secretHeader != nil {
			req.Header.Set(telegram.SecretHeader, *secretHeader)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	update := func(id int, text string) string {
		return fmt.Sprintf(`{"update_id":%d,"message":{"message_id":%d,"date":1,"chat":{"id":42,"type":"private"},"from":{"id":42,"first_name":"U"},"text":%q}}`, id, id, text)
	}
	wrong, empty, right := "wrong-secret", "", secret
	if code := post(&wrong, update(1, "wrong")); code != http.StatusUnauthorized {
		t.Errorf("wrong secret: %d", code)
	}
	if code := post(nil, update(2, "none")); code != http.StatusUnauthorized {
		t.Errorf("no secret: %d", code)
	}
	if code := post(&empty, update(3, "empty")); code != http.StatusUnauthorized {
		t.Errorf("empty secret: %d", code)
	}
	if code := post(&right, "{not json"); code != http.StatusBadRequest {
		t.Errorf("malformed update: %d", code)
	}
	if code := post(&right, update(4, "right")); code != http.StatusOK {
		t.Errorf("right secret: %d", code)
	}
	if code := post(&right, update(4, "right")); code != http.StatusOK { // a redelivery
		t.Errorf("redelivery: %d", code)
	}
	resp, err := http.Get(hook.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", resp.StatusCode)
	}
	// The reply is queued when the webhook answers 200.
	sent := srv.WaitSent(t, 42, 1, wait)
	if len(sent) != 1 || sent[0].Text != "echo: right" {
		t.Errorf("got %+v, want only the update with the right secret, once", sent)
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	if code := post(&right, update(5, "late")); code != http.StatusServiceUnavailable {
		t.Errorf("after shutdown: %d, want 503 so Telegram redelivers", code)
	}
}

func TestWebhookRefusedIsAnError(t *testing.T) {
	t.Parallel()
	srv := telegramtest.New(t)
	srv.Fail("setWebhook", telegramtest.APIError(400, "Bad Request: bad webhook: HTTPS url must be provided for webhook"))
	a, err := telegram.New(telegram.Config{Token: srv.Token, APIURL: srv.URL, Handler: echo(), Tuning: fastTuning(),
		Webhook: &telegram.WebhookConfig{URL: "http://insecure.example.org/hook", SecretToken: "abc"}})
	if err != nil {
		t.Fatal(err)
	}
	err = a.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "refused the webhook") || !strings.Contains(err.Error(), "HTTPS url") {
		t.Errorf("Run = %v", err)
	}
}

func TestRefusedTokenFailsClearly(t *testing.T) {
	t.Parallel()
	srv := telegramtest.New(t)
	a, err := telegram.New(telegram.Config{Token: "999:wrong", APIURL: srv.URL, Handler: echo(), Tuning: fastTuning()})
	if err != nil {
		t.Fatal(err)
	}
	if a.Ready() == nil {
		t.Error("ready before connecting")
	}
	err = a.Run(context.Background())
	if !errors.Is(err, telegram.ErrUnauthorized) || !strings.Contains(err.Error(), "401") {
		t.Errorf("Run = %v, want ErrUnauthorized with the status", err)
	}
	if strings.Contains(err.Error(), "999:wrong") {
		t.Error("the error shows the token")
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]telegram.Config{
		"no token":      {Handler: echo()},
		"bad token":     {Token: "12/../x", Handler: echo()},
		"no handler":    {Token: "1:a"},
		"bad api url":   {Token: "1:a", Handler: echo(), APIURL: "ftp://x"},
		"bad secret":    {Token: "1:a", Handler: echo(), Webhook: &telegram.WebhookConfig{URL: "https://x.org/h", SecretToken: "no spaces allowed"}},
		"no secret":     {Token: "1:a", Handler: echo(), Webhook: &telegram.WebhookConfig{URL: "https://x.org/h"}},
		"bad hook url":  {Token: "1:a", Handler: echo(), Webhook: &telegram.WebhookConfig{URL: "x.org/h", SecretToken: "s"}},
		"long secret":   {Token: "1:a", Handler: echo(), Webhook: &telegram.WebhookConfig{URL: "https://x.org/h", SecretToken: strings.Repeat("a", 257)}},
		"token spaces ": {Token: "1: a", Handler: echo()},
	} {
		if _, err := telegram.New(cfg); err == nil {
			t.Errorf("%s: New accepted %+v", name, cfg)
		}
	}
}

func TestNetworkErrorsRetriedAndTokenNeverLogged(t *testing.T) {
	t.Parallel()
	// A port with nothing listening: getMe fails with a network error whose
	// text would include the URL, and so the token.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var logs syncBuffer
	const token = "4242:SECRET-token-value"
	a, err := telegram.New(telegram.Config{Token: token, APIURL: "http://" + addr, Handler: echo(), Tuning: fastTuning(),
		Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := a.Run(ctx); err != nil {
		t.Errorf("Run = %v, want nil when stopped while still connecting", err)
	}
	out := logs.String()
	if strings.Count(out, "cannot reach Telegram") < 2 {
		t.Errorf("getMe not retried:\n%s", out)
	}
	if strings.Contains(out, "SECRET") {
		t.Errorf("token in logs:\n%s", out)
	}
	if !strings.Contains(out, "<token>") {
		t.Errorf("expected the redacted URL in logs:\n%s", out)
	}
}

func TestHandlerPanicDoesNotStopTheBot(t *testing.T) {
	t.Parallel()
	srv := telegramtest.New(t)
	h := bot.HandlerFunc(func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
		if req.Text == "boom" {
			panic("bad handler")
		}
		if req.Text == "fail" {
			return nil, errors.New("broken")
		}
		return echo().Handle(ctx, req)
	})
	start(t, srv, h, nil)
	srv.PushMessage(telegramtest.Msg{ChatID: 42, From: user(42), Text: "boom"})
	srv.PushMessage(telegramtest.Msg{ChatID: 42, From: user(42), Text: "fail"})
	srv.PushMessage(telegramtest.Msg{ChatID: 42, From: user(42), Text: "after"})
	sent := srv.WaitSent(t, 42, 2, wait)
	if !strings.Contains(sent[0].Text, "something went wrong") || sent[1].Text != "echo: after" {
		t.Errorf("got %+v", sent)
	}
}

func TestMessageTextNeverLogged(t *testing.T) {
	t.Parallel()
	srv := telegramtest.New(t)
	srv.Fail("sendMessage", telegramtest.HTMLError(502), telegramtest.APIError(400, "Bad Request: can't parse entities"))
	h := start(t, srv, echo(), nil)
	srv.PushMessage(telegramtest.Msg{ChatID: 42, From: user(42), Text: "my private question xyzzy"})
	srv.WaitSent(t, 42, 1, wait)
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	logs := h.logs.String()
	if strings.Contains(logs, "xyzzy") || strings.Contains(logs, srv.Token) {
		t.Errorf("logs contain message text or the token:\n%s", logs)
	}
}

// TestStartDeepLinks: t.me/BOT?start=pgwp arrives as "/start pgwp" and
// opens that article; ?start=eligibility opens the eligibility check (this
// router has none: it says so); an unknown payload greets.
func TestStartDeepLinks(t *testing.T) {
	t.Parallel()
	srv := telegramtest.New(t)
	start(t, srv, newRouter(t, bot.Options{}), nil)
	srv.PushMessage(telegramtest.Msg{ChatID: 42, From: user(42), Text: "/start pgwp"})
	if m := srv.WaitSent(t, 42, 1, wait)[0]; !strings.Contains(m.Text, "<b>Post-Graduation Work Permit") {
		t.Errorf("/start pgwp does not open the PGWP article:\n%s", m.Text)
	}
	srv.PushMessage(telegramtest.Msg{ChatID: 43, From: user(43), Text: "/start eligibility"})
	if m := srv.WaitSent(t, 43, 1, wait)[0]; !strings.Contains(m.Text, bot.Msg("en", "no_engine")) {
		t.Errorf("/start eligibility does not go to the eligibility check:\n%s", m.Text)
	}
	srv.PushMessage(telegramtest.Msg{ChatID: 44, From: telegramtest.User{ID: 44, Name: "U", Lang: "fr"}, Text: "/start no-such-page"})
	if m := srv.WaitSent(t, 44, 1, wait)[0]; !strings.Contains(m.Text, "Programme de mobilité internationale") {
		t.Errorf("/start with an unknown payload does not greet (in French):\n%s", m.Text)
	}
}
