package service

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/impbot/impbot/bot"
	"github.com/impbot/impbot/bot/telegram/telegramtest"
)

// tgExampleConfig copies config.example.yaml with the Bot API pointed at the
// fake, HTTP on a free loopback port and the store in a temp folder; edit
// may change more lines.
func tgExampleConfig(t *testing.T, apiURL string, edit func(string) string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	dir := t.TempDir()
	replace := func(old, new string) {
		t.Helper()
		if !strings.Contains(s, old) {
			t.Fatalf("config.example.yaml has no %q", old)
		}
		s = strings.Replace(s, old, new, 1)
	}
	replace(`addr: "127.0.0.1:8080"`, `addr: "127.0.0.1:0"`)
	replace(`path: "data/sessions.db"`, `path: "`+filepath.Join(dir, "data", "sessions.db")+`"`)
	replace(`api_url: ""                  # Bot API base URL`, `api_url: "`+apiURL+`" # Bot API base URL`) // telegram's comes first
	// Discord stays off whatever the environment holds.
	replace("discord:\n  enabled: auto", "discord:\n  enabled: false")
	if edit != nil {
		s = edit(s)
	}
	p := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTelegramExampleConfigIsComplete(t *testing.T) {
	t.Setenv("TELEGRAM_BOT_TOKEN", "1:x")
	cfg, err := LoadConfig(filepath.Join("..", "..", "config.example.yaml"), os.LookupEnv)
	if err != nil {
		t.Fatal(err)
	}
	def := DefaultConfig()
	if !cfg.Telegram.Enabled || cfg.Telegram.Token != "1:x" || cfg.Telegram.Mode != "polling" || cfg.Telegram.APIURL != "" {
		t.Errorf("telegram section: %+v", cfg.Telegram)
	}
	if cfg.HTTP.Addr != def.HTTP.Addr || cfg.Sessions.Path != def.Sessions.Path || cfg.Knowledge.Dir != "" {
		t.Errorf("defaults differ from the example: %+v", cfg)
	}
	data, _ := os.ReadFile(filepath.Join("..", "..", "config.example.yaml"))
	for _, key := range []string{"knowledge:", "dir:", "http:", "addr:", "sessions:", "path:", "idle_timeout:",
		"organization:", "name:", "contact:", "log:", "level:", "format:", "message_text:", "rate_limit:",
		"per_second:", "burst:", "unanswered:", "retention_days:", "telegram:", "enabled:", "token:", "mode:",
		"api_url:", "webhook:", "url:", "secret_token:", "staff_chat_id:", "discord:", "application_id:",
		"guild_ids:", "channels:", "ephemeral:", "${TELEGRAM_BOT_TOKEN}", "${DISCORD_BOT_TOKEN}",
		"web:", "allowed_origins:", "title:", "greeting:", "theme_color:"} {
		if !strings.Contains(string(data), key) {
			t.Errorf("config.example.yaml does not document %s", key)
		}
	}
	// Every key line carries a comment (or is a section heading).
	for i, line := range strings.Split(string(data), "\n") {
		l := strings.TrimSpace(line)
		if l == "" || strings.HasPrefix(l, "#") || strings.HasSuffix(l, ":") {
			continue
		}
		if !strings.Contains(l, "#") {
			t.Errorf("line %d has no comment: %s", i+1, l)
		}
	}
}

// tgServe runs serve with a config file; it returns the HTTP address and a
// stop function.
func tgServe(t *testing.T, path string) (addr string, logs *tgBuffer, stop func() error) {
	t.Helper()
	cfg, err := LoadConfig(path, os.LookupEnv)
	if err != nil {
		t.Fatal(err)
	}
	return tgServeConfig(t, cfg)
}

// tgServeConfig runs serve with a config.
func tgServeConfig(t *testing.T, cfg Config) (addr string, logs *tgBuffer, stop func() error) {
	t.Helper()
	logs = &tgBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, newLogger(logs, "debug", "text"), ready) }()
	select {
	case addr = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("serve: %v\n%s", err, logs)
	case <-time.After(patience):
		cancel()
		t.Fatal("serve did not start")
	}
	var once sync.Once
	var stopErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(patience):
				stopErr = errors.New("serve did not stop")
			}
		})
		return stopErr
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("serve: %v", err)
		}
		if t.Failed() {
			t.Logf("logs:\n%s", logs)
		}
	})
	return addr, logs, stop
}

// tgBuffer is a concurrency-safe log sink.
type tgBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *tgBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *tgBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// tgEventually polls cond until it holds or the time is up.
func tgEventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func tgGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServeTelegramWithExampleConfig(t *testing.T) {
	srv := telegramtest.New(t)
	t.Setenv("TELEGRAM_BOT_TOKEN", srv.Token)
	const staff = -100777
	path := tgExampleConfig(t, srv.URL, func(s string) string {
		return strings.Replace(s, "staff_chat_id: 0 ", "staff_chat_id: -100777 ", 1)
	})
	addr, logs, stop := tgServe(t, path)

	tgEventually(t, patience, "/readyz reports telegram ok", func() bool {
		code, body := tgGet(t, "http://"+addr+"/readyz")
		return code == http.StatusOK && strings.Contains(body, `"telegram": "ok"`)
	})
	u := telegramtest.User{ID: 42, Name: "U", Lang: "en"}
	const question = "How long is a post-graduation work permit valid?"
	srv.PushMessage(telegramtest.Msg{ChatID: 42, From: u, Text: question})
	answer := srv.WaitSent(t, 42, 1, patience)[0]
	if answer.ParseMode != "HTML" || !strings.Contains(answer.Text, "<b>") || !strings.Contains(strings.ToLower(answer.Text), "post-graduation") {
		t.Errorf("answer:\n%+v", answer)
	}
	// The handoff goes to the staff chat; /forget (through the app's router)
	// deletes it, so a late staff reply no longer reaches the user.
	var handoff string
	for _, b := range answer.Buttons() {
		if strings.HasPrefix(b.CallbackData, bot.ActHandoff) {
			handoff = b.CallbackData
		}
	}
	if handoff == "" {
		t.Fatalf("no handoff button under the answer: %+v", answer.Buttons())
	}
	srv.PushCallback(42, u, answer.MessageID, handoff)
	fwd := srv.WaitSent(t, staff, 1, patience)[0]
	if !strings.Contains(fwd.Text, question) {
		t.Errorf("staff chat did not get the question:\n%s", fwd.Text)
	}
	srv.WaitSent(t, 42, 2, patience)
	srv.PushMessage(telegramtest.Msg{ChatID: 42, From: u, Text: "/forget"})
	if m := srv.WaitSent(t, 42, 3, patience)[2]; !strings.Contains(m.Text, "deleted") {
		t.Errorf("/forget answered %q", m.Text)
	}
	srv.PushMessage(telegramtest.Msg{ChatID: staff, From: telegramtest.User{ID: 9, Name: "Staff"}, Text: "Answer", ReplyTo: fwd.MessageID})
	if m := srv.WaitSent(t, staff, 2, patience)[1]; !strings.Contains(m.Text, "no longer open") {
		t.Errorf("staff told %q", m.Text)
	}
	if err := stop(); err != nil {
		t.Fatalf("serve returned %v, want nil on shutdown", err)
	}
	if n := len(srv.SentTo(42)); n != 3 {
		t.Errorf("user got %d messages, want 3", n)
	}
	out := logs.String()
	if strings.Contains(out, srv.Token) || strings.Contains(out, "post-graduation work permit valid") {
		t.Errorf("logs contain the token or message text:\n%s", out)
	}
}

// TestServeTelegramMissingToken: with telegram.enabled: true and no token,
// serve stops at once and the error names both ways out.
func TestServeTelegramMissingToken(t *testing.T) {
	t.Setenv("TELEGRAM_BOT_TOKEN", "")
	path := tgExampleConfig(t, "http://127.0.0.1:1", func(s string) string {
		return strings.Replace(s, "telegram:\n  enabled: auto", "telegram:\n  enabled: true", 1)
	})
	err := ServeFile(context.Background(), path, io.Discard)
	if err == nil {
		t.Fatal("serve started without a token")
	}
	for _, want := range []string{"telegram.token", "TELEGRAM_BOT_TOKEN", "telegram.enabled: false"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

// TestExampleConfigStartsWithoutTokens: the example config as shipped
// starts with no token in the environment (HTTP only) and says why each
// platform is off.
func TestExampleConfigStartsWithoutTokens(t *testing.T) {
	t.Setenv("TELEGRAM_BOT_TOKEN", "")
	t.Setenv("DISCORD_BOT_TOKEN", "")
	t.Setenv("TELEGRAM_WEBHOOK_SECRET", "")
	cfg, err := LoadConfig(filepath.Join("..", "..", "config.example.yaml"), os.LookupEnv)
	if err != nil {
		t.Fatalf("the example config does not load without tokens: %v", err)
	}
	if cfg.Telegram.Enabled || cfg.Discord.Enabled {
		t.Errorf("platforms on without tokens: telegram %v, discord %v", cfg.Telegram.Enabled, cfg.Discord.Enabled)
	}
	t.Setenv("DISCORD_BOT_TOKEN", "d-token")
	if cfg, err = LoadConfig(filepath.Join("..", "..", "config.example.yaml"), os.LookupEnv); err != nil {
		t.Fatal(err)
	}
	if cfg.Telegram.Enabled || !cfg.Discord.Enabled || cfg.Discord.Token != "d-token" {
		t.Errorf("with DISCORD_BOT_TOKEN only: telegram %v, discord %v", cfg.Telegram.Enabled, cfg.Discord.Enabled)
	}
	t.Setenv("DISCORD_BOT_TOKEN", "")
	path := tgExampleConfig(t, "http://127.0.0.1:1", nil)
	addr, logs, stop := tgServe(t, path)
	if code, body := tgGet(t, "http://"+addr+"/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz: %d %s", code, body)
	}
	if err := stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	if !strings.Contains(logs.String(), "telegram is off") {
		t.Errorf("the log does not say why Telegram is off:\n%s", logs.String())
	}
}

func TestServeTelegramRefusedToken(t *testing.T) {
	srv := telegramtest.New(t)
	const token = "999:REFUSED-token"
	t.Setenv("TELEGRAM_BOT_TOKEN", token)
	path := tgExampleConfig(t, srv.URL, nil)
	var stderr tgBuffer
	done := make(chan error, 1)
	go func() {
		done <- ServeFile(context.Background(), path, &stderr)
	}()
	var err error
	select {
	case err = <-done:
	case <-time.After(patience):
		t.Fatal("serve kept running with a refused token")
	}
	if err == nil || !strings.Contains(err.Error(), "Telegram refused the bot token") || !strings.Contains(err.Error(), "telegram.token") {
		t.Errorf("error = %v", err)
	}
	if strings.Contains(err.Error()+stderr.String(), "REFUSED-token") {
		t.Errorf("the token appears in the error or logs")
	}
}

func TestServeTelegramWebhookRoute(t *testing.T) {
	srv := telegramtest.New(t)
	t.Setenv("TELEGRAM_BOT_TOKEN", srv.Token)
	t.Setenv("TELEGRAM_WEBHOOK_SECRET", "hook-secret_1")
	path := tgExampleConfig(t, srv.URL, func(s string) string {
		s = strings.Replace(s, "mode: polling", "mode: webhook", 1)
		return strings.Replace(s, `url: ""                    # webhook mode`, `url: "https://bot.example.org/tg/hook" # webhook mode`, 1)
	})
	addr, _, _ := tgServe(t, path)
	tgEventually(t, patience, "webhook set", func() bool { return len(srv.Calls("setWebhook")) == 1 })
	tgEventually(t, patience, "/readyz ok", func() bool {
		code, _ := tgGet(t, "http://"+addr+"/readyz")
		return code == http.StatusOK
	})
	post := func(secret string) int {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/tg/hook", strings.NewReader(
			`{"update_id":1,"message":{"message_id":1,"date":1,"chat":{"id":42,"type":"private"},"from":{"id":42,"first_name":"U"},"text":"/start"}}`))
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("wrong"); code != http.StatusUnauthorized {
		t.Errorf("wrong secret: %d", code)
	}
	if code := post("hook-secret_1"); code != http.StatusOK {
		t.Errorf("right secret: %d", code)
	}
	srv.WaitSent(t, 42, 1, patience)
}
