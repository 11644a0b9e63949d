package telegram_test

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/impbot/impbot/bot"
	"github.com/impbot/impbot/bot/telegram"
	"github.com/impbot/impbot/bot/telegram/telegramtest"
)

const staffChat = -100500

var staffer = telegramtest.User{ID: 900, Name: "Staff", Lang: "en"}

// handoffBot runs the real router with the adapter as its Forgetter and
// the staff chat configured.
func handoffBot(t *testing.T, srv *telegramtest.Server, db *bbolt.DB) *harness {
	t.Helper()
	r := newRouter(t, bot.Options{OrgName: "Test Org", Contact: "help@example.org"})
	h := start(t, srv, r, func(c *telegram.Config) {
		c.StaffChatID = staffChat
		c.DB = db
	})
	r.AddForgetter(h.a)
	return h
}

func buttonWith(t *testing.T, m telegramtest.Sent, prefix string) telegramtest.Button {
	t.Helper()
	for _, b := range m.Buttons() {
		if strings.HasPrefix(b.CallbackData, prefix) {
			return b
		}
	}
	t.Fatalf("no button %s… in %+v", prefix, m.Buttons())
	return telegramtest.Button{}
}

func TestHandoffAskAnExpertLoop(t *testing.T) {
	t.Parallel()
	srv := telegramtest.New(t)
	h := handoffBot(t, srv, nil)
	u := user(42)
	const question = "My employer <Acme & Co> wants me to start before my permit arrives, is that OK?"
	srv.PushMessage(telegramtest.Msg{ChatID: 42, From: u, Text: question})
	answer := srv.WaitSent(t, 42, 1, wait)[0]
	btn := buttonWith(t, answer, bot.ActHandoff)

	// The user asks for a person: the question goes to the staff chat.
	srv.PushCallback(42, u, answer.MessageID, btn.CallbackData)
	fwd := srv.WaitSent(t, staffChat, 1, wait)[0]
	if !strings.Contains(fwd.Text, telegram.Escape(question)) {
		t.Errorf("staff chat did not get the question (escaped):\n%s", fwd.Text)
	}
	if revealsUser42(fwd.Text) {
		t.Errorf("staff message reveals the user's id:\n%s", fwd.Text)
	}
	reply := buttonWith(t, fwd, "hr:")
	confirm := srv.WaitSent(t, 42, 2, wait)[1]
	h.settle()
	if !strings.Contains(confirm.Text, "passed your question to our team") {
		t.Errorf("user told %q", confirm.Text)
	}

	// A staff member replies to the forwarded message: the user gets it.
	srv.PushMessage(telegramtest.Msg{ChatID: staffChat, From: staffer, Text: "No: wait for <the permit> & its approval.", ReplyTo: fwd.MessageID})
	got := srv.WaitSent(t, 42, 3, wait)[2]
	if !strings.Contains(got.Text, "Answer from our team") || !strings.Contains(got.Text, "wait for &lt;the permit&gt; &amp; its approval") {
		t.Errorf("user got %q", got.Text)
	}
	ack := srv.WaitSent(t, staffChat, 2, wait)[1]
	if !strings.Contains(ack.Text, "Sent to the user") || ack.ReplyTo == 0 {
		t.Errorf("staff told %+v", ack)
	}

	// The Reply button opens a prompt; answering the prompt reaches the user.
	srv.PushCallback(staffChat, staffer, fwd.MessageID, reply.CallbackData)
	prompt := srv.WaitSent(t, staffChat, 3, wait)[2]
	if prompt.Markup == nil || !prompt.Markup.ForceReply {
		t.Fatalf("Reply did not open a reply prompt: %+v", prompt)
	}
	h.settle()
	srv.PushMessage(telegramtest.Msg{ChatID: staffChat, From: staffer, Text: "Also see /contact.", ReplyTo: prompt.MessageID})
	if got := srv.WaitSent(t, 42, 4, wait)[3]; !strings.Contains(got.Text, "Also see /contact.") {
		t.Errorf("second staff reply: %q", got.Text)
	}

	// Staff chatter that is not a reply, and commands there, are ignored; the
	// staff chat never reaches the router.
	srv.PushMessage(telegramtest.Msg{ChatID: staffChat, From: staffer, Text: "/start"})
	srv.PushMessage(telegramtest.Msg{ChatID: staffChat, From: staffer, Text: "coffee?"})

	// /forget deletes the pending handoff: later replies do not reach the user.
	srv.PushMessage(telegramtest.Msg{ChatID: 42, From: u, Text: "/forget"})
	if got := srv.WaitSent(t, 42, 5, wait)[4]; !strings.Contains(got.Text, "deleted") {
		t.Errorf("/forget: %q", got.Text)
	}
	srv.PushMessage(telegramtest.Msg{ChatID: staffChat, From: staffer, Text: "One more thing", ReplyTo: fwd.MessageID})
	gone := srv.WaitSent(t, staffChat, 5, wait)[4]
	if !strings.Contains(gone.Text, "no longer open") {
		t.Errorf("staff told %q", gone.Text)
	}
	if n := len(srv.SentTo(staffChat)); n != 5 {
		t.Errorf("staff chat got %d messages, want 5 (chatter ignored)", n)
	}
	if n := len(srv.SentTo(42)); n != 5 {
		t.Errorf("user got %d messages after /forget, want 5", n)
	}
}

func TestHandoffAsksForTheQuestionWhenThereIsNone(t *testing.T) {
	t.Parallel()
	srv := telegramtest.New(t)
	handoffBot(t, srv, nil)
	u := telegramtest.User{ID: 43, Name: "U", Lang: "fr"}
	srv.PushMessage(telegramtest.Msg{ChatID: 43, From: u, Text: "/contact"})
	contact := srv.WaitSent(t, 43, 1, wait)[0]
	btn := buttonWith(t, contact, bot.ActHandoff) // offered under /contact
	if btn.Text != "Demander à notre équipe" {
		t.Errorf("button label %q", btn.Text)
	}
	srv.PushCallback(43, u, contact.MessageID, btn.CallbackData)
	if ask := srv.WaitSent(t, 43, 2, wait)[1]; !strings.Contains(ask.Text, "Que souhaitez-vous demander") {
		t.Errorf("asked %q", ask.Text)
	}
	// /cancel withdraws; the next press asks again and the next text is sent.
	srv.PushMessage(telegramtest.Msg{ChatID: 43, From: u, Text: "/cancel"})
	if got := srv.WaitSent(t, 43, 3, wait)[2]; !strings.Contains(got.Text, "rien n'a été envoyé") {
		t.Errorf("cancel: %q", got.Text)
	}
	srv.PushCallback(43, u, contact.MessageID, btn.CallbackData)
	srv.WaitSent(t, 43, 4, wait)
	srv.PushMessage(telegramtest.Msg{ChatID: 43, From: u, Text: "Mon conjoint peut-il travailler ?"})
	fwd := srv.WaitSent(t, staffChat, 1, wait)[0]
	if !strings.Contains(fwd.Text, "Mon conjoint peut-il travailler ?") || !strings.Contains(fwd.Text, ", fr)") {
		t.Errorf("staff got %q", fwd.Text)
	}
	if got := srv.WaitSent(t, 43, 5, wait)[4]; !strings.Contains(got.Text, "transmis votre question") {
		t.Errorf("user told %q", got.Text)
	}
	// Pressing again right away does not flood the staff chat.
	srv.PushMessage(telegramtest.Msg{ChatID: 43, From: u, Text: "Et mes enfants ?"})
	srv.WaitSent(t, 43, 6, wait)
	srv.PushCallback(43, u, contact.MessageID, btn.CallbackData)
	if got := srv.WaitSent(t, 43, 7, wait)[6]; !strings.Contains(got.Text, "déjà") {
		t.Errorf("second handoff: %q", got.Text)
	}
	if n := len(srv.SentTo(staffChat)); n != 1 {
		t.Errorf("staff chat got %d messages, want 1", n)
	}
}

func TestHandoffSurvivesRestart(t *testing.T) {
	t.Parallel()
	srv := telegramtest.New(t)
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "s.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h := handoffBot(t, srv, db)
	u := user(44)
	srv.PushMessage(telegramtest.Msg{ChatID: 44, From: u, Text: "Do I need a medical exam for IEC?"})
	answer := srv.WaitSent(t, 44, 1, wait)[0]
	srv.PushCallback(44, u, answer.MessageID, buttonWith(t, answer, bot.ActHandoff).CallbackData)
	fwd := srv.WaitSent(t, staffChat, 1, wait)[0]
	srv.WaitSent(t, 44, 2, wait)
	h.settle()
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	handoffBot(t, srv, db)
	srv.PushMessage(telegramtest.Msg{ChatID: staffChat, From: staffer, Text: "Only for some countries.", ReplyTo: fwd.MessageID})
	if got := srv.WaitSent(t, 44, 3, wait)[2]; !strings.Contains(got.Text, "Only for some countries.") {
		t.Errorf("after a restart the user got %q", got.Text)
	}
}

func TestHandoffWithoutStaffChatGivesTheContact(t *testing.T) {
	t.Parallel()
	srv := telegramtest.New(t)
	start(t, srv, newRouter(t, bot.Options{OrgName: "Test Org", Contact: "help@example.org"}), nil)
	u := user(45)
	srv.PushMessage(telegramtest.Msg{ChatID: 45, From: u, Text: "Can my spouse work in Canada?"})
	answer := srv.WaitSent(t, 45, 1, wait)[0]
	srv.PushCallback(45, u, answer.MessageID, buttonWith(t, answer, bot.ActHandoff).CallbackData)
	got := srv.WaitSent(t, 45, 2, wait)[1]
	if !strings.Contains(got.Text, "help@example.org") {
		t.Errorf("handoff without a staff chat: %q", got.Text)
	}
}

// TestHandoffFromAnotherPlatform: the web widget's "Talk to a person" form
// reaches the staff chat; the staff reply goes to the platform's sink, and
// /forget from that platform withdraws the question.
func TestHandoffFromAnotherPlatform(t *testing.T) {
	t.Parallel()
	srv := telegramtest.New(t)
	h := handoffBot(t, srv, nil)
	type got struct{ key, lang, text string }
	delivered := make(chan got, 4)
	h.a.SetExternalSink("web", func(key, lang, text string) bool {
		delivered <- got{key, lang, text}
		return key != "gone"
	})
	eventually(t, "the adapter to connect", func() bool { return h.a.Ready() == nil })
	if err := h.a.ForwardExternal("web", "sess1", "fr", "Ana <x>", "ana@example.org", "Mon conjoint peut-il travailler ?"); err != nil {
		t.Fatal(err)
	}
	fwd := srv.WaitSent(t, staffChat, 1, wait)[0]
	for _, want := range []string{"web", "Ana &lt;x&gt;", "ana@example.org", "Mon conjoint peut-il travailler ?"} {
		if !strings.Contains(fwd.Text, want) {
			t.Errorf("staff message lacks %q:\n%s", want, fwd.Text)
		}
	}
	buttonWith(t, fwd, "hr:")
	h.settle()
	srv.PushMessage(telegramtest.Msg{ChatID: staffChat, From: staffer, Text: "Oui, avec un PTO.", ReplyTo: fwd.MessageID})
	select {
	case g := <-delivered:
		if g.key != "sess1" || g.lang != "fr" || g.text != "Oui, avec un PTO." {
			t.Errorf("delivered %+v", g)
		}
	case <-time.After(wait):
		t.Fatal("staff reply never reached the web sink")
	}
	if ack := srv.WaitSent(t, staffChat, 2, wait)[1]; !strings.Contains(ack.Text, "Sent to the visitor") {
		t.Errorf("staff told %q", ack.Text)
	}
	// /forget from the widget withdraws the question.
	if err := h.a.Forget(context.Background(), &bot.Request{Platform: "web", ChatID: "sess1", UserID: "sess1"}); err != nil {
		t.Fatal(err)
	}
	h.settle()
	srv.PushMessage(telegramtest.Msg{ChatID: staffChat, From: staffer, Text: "More?", ReplyTo: fwd.MessageID})
	if gone := srv.WaitSent(t, staffChat, 3, wait)[2]; !strings.Contains(gone.Text, "no longer open") {
		t.Errorf("after /forget staff told %q", gone.Text)
	}
	if len(delivered) != 0 {
		t.Error("a reply reached the sink after /forget")
	}
}

// revealsUser42 tells whether a staff message shows the test user's id (42)
// as a number of its own; the random hex handoff id may contain the digits.
func revealsUser42(text string) bool {
	return user42.MatchString(text)
}

var user42 = regexp.MustCompile(`(^|[^0-9a-f])42([^0-9a-f]|$)`)
