package telegram_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/impbot/impbot/bot/telegram"
	"github.com/impbot/impbot/bot/telegram/telegramtest"
)

// The helper process: a Telegram adapter with a bbolt store, pointed at the
// parent test's fake Bot API, run until a signal.
const helperEnv = "IMPBOT_OUTBOX_HELPER"

func TestOutboxHelperProcess(t *testing.T) {
	t.Parallel()
	if os.Getenv(helperEnv) == "" {
		t.Skip("helper process of TestSIGKILLWithHeldRepliesLosesNone (runs only as its subprocess)")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	db, err := bbolt.Open(os.Getenv(helperEnv+"_DB"), 0o600, &bbolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tun := fastTuning()
	tun.RetryAfterUnit = 50 * time.Millisecond // retry_after 1000 holds a reply for 50s
	a, err := telegram.New(telegram.Config{
		Token:   os.Getenv(helperEnv + "_TOKEN"),
		APIURL:  os.Getenv(helperEnv + "_URL"),
		Handler: echo(),
		DB:      db,
		Log:     slog.New(slog.NewTextHandler(os.Stderr, nil)),
		Tuning:  tun,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Run(ctx); err != nil {
		t.Fatal(err)
	}
}

func startHelper(t *testing.T, srv *telegramtest.Server, dbPath string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestOutboxHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"=1", helperEnv+"_DB="+dbPath, helperEnv+"_URL="+srv.URL, helperEnv+"_TOKEN="+srv.Token,
		// A race-built helper would otherwise sleep a second as it exits.
		"GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		// Under go test -race the helper runs with the race detector,
		// whose reports a SIGKILLed process never turns into an exit
		// status: its output is checked for them.
		if strings.Contains(out.String(), "WARNING: DATA RACE") {
			t.Errorf("the race detector found a data race in the helper process")
		}
		if t.Failed() {
			t.Logf("helper output:\n%s", out.String())
		}
	})
	return cmd
}

// TestSIGKILLWithHeldRepliesLosesNone: replies held back by Telegram's
// flood control (429 retry_after) when the process is killed with SIGKILL,
// after their updates were confirmed, are delivered after the restart,
// each exactly once, in order per chat.
func TestSIGKILLWithHeldRepliesLosesNone(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	srv := telegramtest.New(t)
	dbPath := filepath.Join(t.TempDir(), "sessions.db")
	want := map[string]int{}
	var last int
	for c := int64(1); c <= 6; c++ {
		n := 1
		if c == 1 {
			n = 3 // several replies queued in one chat keep their order
		}
		for i := range n {
			text := fmt.Sprintf("q-%d-%d", c, i)
			last = srv.PushMessage(telegramtest.Msg{ChatID: 400 + c, From: user(400 + c), Text: text})
			want["echo: "+text] = 1
		}
	}
	// Every first attempt per chat meets flood control for a long time.
	for range 6 {
		srv.Fail("sendMessage", telegramtest.Flood(1000))
	}

	first := startHelper(t, srv, dbPath)
	srv.WaitFor(t, wait, "the updates confirmed and every chat held back by 429", func() bool {
		return srv.Offset() > last && len(srv.Calls("sendMessage")) >= 6
	})
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	if n := len(srv.Sent()); n != 0 {
		t.Fatalf("%d replies got through before the kill; the test needs them held back", n)
	}
	if srv.Pending() != 0 {
		t.Fatalf("Telegram still holds %d updates: they were not confirmed, so the test proves nothing", srv.Pending())
	}

	second := startHelper(t, srv, dbPath)
	srv.WaitFor(t, wait, "every held reply after the restart", func() bool { return len(srv.Sent()) >= len(want) })
	// Stop cleanly and count: nothing may have been sent twice.
	if err := second.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := second.Wait(); err != nil {
		t.Fatalf("second run: %v", err)
	}
	got := map[string]int{}
	for _, m := range srv.Sent() {
		got[m.Text]++
	}
	for text := range want {
		if got[text] != 1 {
			t.Errorf("%q delivered %d times, want exactly once", text, got[text])
		}
	}
	if len(got) != len(want) {
		t.Errorf("delivered %v, want %v", got, want)
	}
	var order []string
	for _, m := range srv.SentTo(401) {
		order = append(order, m.Text)
	}
	if strings.Join(order, "|") != "echo: q-1-0|echo: q-1-1|echo: q-1-2" {
		t.Errorf("chat order after restart: %v", order)
	}
}

// TestWebhookReplyHeldAtShutdownIsSentAfterRestart: the webhook answers 200
// once the reply is on disk; a reply still held back by flood control when
// the shutdown deadline passes is sent by the next run, once.
func TestWebhookReplyHeldAtShutdownIsSentAfterRestart(t *testing.T) {
	t.Parallel()
	srv := telegramtest.New(t)
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "s.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const secret = "s3cret"
	srv.Fail("sendMessage", telegramtest.Flood(1000))
	h := start(t, srv, echo(), func(c *telegram.Config) {
		c.DB = db
		c.Webhook = &telegram.WebhookConfig{URL: "https://bot.example.org/hook", SecretToken: secret}
		c.Tuning.RetryAfterUnit = 50 * time.Millisecond
		c.Tuning.ShutdownTimeout = time.Millisecond
	})
	hook := httptest.NewServer(h.a.WebhookHandler())
	defer hook.Close()
	h.waitReady()
	body := `{"update_id":9,"message":{"message_id":9,"date":1,"chat":{"id":42,"type":"private"},"from":{"id":42,"first_name":"U"},"text":"held"}}`
	req, _ := http.NewRequest(http.MethodPost, hook.URL, strings.NewReader(body))
	req.Header.Set(telegram.SecretHeader, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("webhook answered %d", resp.StatusCode)
	}
	srv.WaitFor(t, wait, "the reply held back by flood control", func() bool { return len(srv.Calls("sendMessage")) == 1 })
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Sent()); n != 0 {
		t.Fatalf("%d sent before the restart; the test needs the reply held", n)
	}
	start(t, srv, echo(), func(c *telegram.Config) { c.DB = db })
	sent := srv.WaitSent(t, 42, 1, wait)
	if len(sent) != 1 || sent[0].Text != "echo: held" {
		t.Fatalf("after restart: %+v", sent)
	}
	// Delivered once: the record is gone, so no later run sends it again.
	var left int
	eventually(t, "the outbox emptied", func() bool {
		_ = db.View(func(tx *bbolt.Tx) error {
			left = tx.Bucket([]byte("telegram_outbox")).Stats().KeyN
			return nil
		})
		return left == 0
	})
}
