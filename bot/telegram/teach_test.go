package telegram_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/impbot/impbot/bot"
	"github.com/impbot/impbot/bot/telegram"
	"github.com/impbot/impbot/bot/telegram/telegramtest"
)

type fakeTeacher struct {
	mu      sync.Mutex
	learned []string
}

func (f *fakeTeacher) Proposals(ctx context.Context, n int) ([]bot.Proposal, error) {
	return []bot.Proposal{{Question: "can my <wife> work?", Lang: "en", Count: 4, Articles: []string{"spousal-owp-workers", "spousal-owp-students"}}}, nil
}

func (f *fakeTeacher) Learn(ctx context.Context, q, lang, id string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if id == "spousal-owp-students" {
		return "", errors.New("kb check failed")
	}
	f.learned = append(f.learned, lang+"|"+id+"|"+q)
	return "Added to " + lang + "/" + id + "; kb check OK; knowledge reloaded.", nil
}

func TestStaffTeachesAMissedQuestionWithOneTap(t *testing.T) {
	t.Parallel()
	srv := telegramtest.New(t)
	ft := &fakeTeacher{}
	r := newRouter(t, bot.Options{})
	start(t, srv, r, func(c *telegram.Config) {
		c.StaffChatID = staffChat
		c.Teacher = ft
	})
	srv.PushMessage(telegramtest.Msg{ChatID: staffChat, From: staffer, Text: "/gaps"})
	list := srv.WaitSent(t, staffChat, 1, wait)[0]
	if !strings.Contains(list.Text, "4×") || !strings.Contains(list.Text, "can my &lt;wife&gt; work?") {
		t.Fatalf("proposal: %q", list.Text)
	}
	btn := buttonWith(t, list, "kl:")
	if btn.Text != "➕ spousal-owp-workers" {
		t.Fatalf("first button %q", btn.Text)
	}
	srv.PushCallback(staffChat, staffer, list.MessageID, btn.CallbackData)
	ack := srv.WaitSent(t, staffChat, 2, wait)[1]
	if !strings.Contains(ack.Text, "✅ Added to en/spousal-owp-workers") {
		t.Fatalf("ack %q", ack.Text)
	}
	ft.mu.Lock()
	got := strings.Join(ft.learned, ";")
	ft.mu.Unlock()
	if got != "en|spousal-owp-workers|can my <wife> work?" {
		t.Fatalf("learned %q", got)
	}
	// A failed check is reported, and an unknown token is refused.
	second := list.Buttons()[1]
	srv.PushCallback(staffChat, staffer, list.MessageID, second.CallbackData)
	if m := srv.WaitSent(t, staffChat, 3, wait)[2]; !strings.Contains(m.Text, "❌ Not added: kb check failed") {
		t.Errorf("failure message %q", m.Text)
	}
	srv.PushCallback(staffChat, staffer, list.MessageID, "kl:nosuch:0")
	if m := srv.WaitSent(t, staffChat, 4, wait)[3]; !strings.Contains(m.Text, "expired") {
		t.Errorf("unknown token: %q", m.Text)
	}
}
