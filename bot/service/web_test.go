package service

import (
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/impbot/impbot/bot/telegram/telegramtest"
	"github.com/impbot/impbot/bot/web"
)

func webDial(t *testing.T, addr string) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/chat/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func webRoundTrip(t *testing.T, c *websocket.Conn, in web.In) web.Out {
	t.Helper()
	if err := c.WriteJSON(in); err != nil {
		t.Fatal(err)
	}
	for {
		var o web.Out
		_ = c.SetReadDeadline(time.Now().Add(patience))
		if err := c.ReadJSON(&o); err != nil {
			t.Fatal(err)
		}
		if o.Type == "hello" || o.ID == in.ID {
			return o
		}
	}
}

// TestServeDemoConfig: without --config, serve runs the web chat from the
// embedded knowledge with nothing else; answers count as platform "web" in
// the metrics and the unanswered log.
func TestServeDemoConfig(t *testing.T) {
	cfg := DemoConfig()
	if cfg.HTTP.Addr != "127.0.0.1:8080" || !cfg.Web.Enabled || cfg.Telegram.Enabled || cfg.Discord.Enabled || cfg.Sessions.Path != "" || cfg.Knowledge.Dir != "" {
		t.Fatalf("demo config: %+v", cfg)
	}
	cfg.HTTP.Addr = "127.0.0.1:0"
	dir := t.TempDir()
	wd, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chdir(wd) })
	addr, logs, stop := tgServeConfig(t, cfg)
	code, body := tgGet(t, "http://"+addr+"/")
	if code != 200 || !strings.Contains(body, "Need help?") || !strings.Contains(body, `<script src="/widget.js" async></script>`) {
		t.Fatalf("demo page: %d\n%s", code, body)
	}
	code, body = tgGet(t, "http://"+addr+"/readyz")
	if code != 200 || !strings.Contains(body, `"web": "ok"`) {
		t.Fatalf("/readyz: %d %s", code, body)
	}
	c := webDial(t, addr)
	h := webRoundTrip(t, c, web.In{Type: "hello"})
	o := webRoundTrip(t, c, web.In{Type: "msg", SID: h.SID, ID: "m1", Text: "what is the employer compliance fee"})
	if len(o.Entries) != 2 || o.Entries[1].Replies[0].Topic != "employer-compliance-fee" {
		t.Fatalf("answer: %+v", o)
	}
	o = webRoundTrip(t, c, web.In{Type: "msg", SID: h.SID, ID: "m2", Text: "best pizza recipe with pineapple"})
	if o.Entries[1].Replies[0].Topic != "" {
		t.Fatalf("unrelated question answered: %+v", o)
	}
	_, metrics := tgGet(t, "http://"+addr+"/metrics")
	for _, want := range []string{`impbot_messages_received_total{platform="web"} 2`, `impbot_questions_total{outcome="answered",platform="web"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "pineapple") {
		t.Error("message text in the logs")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("demo mode wrote files: %v", entries)
	}
}

// TestServeWebHandoffToTelegramStaff: the widget's "Talk to a person" form
// goes to the Telegram staff chat; the staff reply shows in the widget when
// the visitor comes back.
func TestServeWebHandoffToTelegramStaff(t *testing.T) {
	t.Parallel()
	srv := telegramtest.New(t)
	const staff = -100777
	// The token is written into the config (tests running at once cannot
	// each set the environment; TestServeTelegramWithExampleConfig reads
	// it from there).
	path := tgExampleConfig(t, srv.URL, func(s string) string {
		s = strings.Replace(s, "token: ${TELEGRAM_BOT_TOKEN}", "token: "+srv.Token, 1)
		s = strings.Replace(s, "staff_chat_id: 0 ", "staff_chat_id: -100777 ", 1)
		s = strings.Replace(s, "enabled: false               # true: serve the web chat", "enabled: true                # true: serve the web chat", 1)
		return strings.Replace(s, `allowed_origins: []`, `allowed_origins: ["https://consultancy.example"]`, 1)
	})
	addr, _, _ := tgServe(t, path)
	tgEventually(t, patience, "/readyz reports telegram ok", func() bool {
		code, body := tgGet(t, "http://"+addr+"/readyz")
		return code == http.StatusOK && strings.Contains(body, `"telegram": "ok"`) && strings.Contains(body, `"web": "ok"`)
	})
	c := webDial(t, addr)
	h := webRoundTrip(t, c, web.In{Type: "hello"})
	if !h.Staff {
		t.Fatal("the widget does not offer the form although the staff chat is configured")
	}
	o := webRoundTrip(t, c, web.In{Type: "handoff", SID: h.SID, ID: "h1", Lang: "en", Name: "Ana", Email: "ana@example.org", Question: "Can my spouse work while I study?"})
	if !strings.Contains(o.Entries[1].Replies[0].Text, "with our team") {
		t.Fatalf("handoff: %+v", o)
	}
	fwd := srv.WaitSent(t, staff, 1, patience)[0]
	if !strings.Contains(fwd.Text, "Can my spouse work while I study?") || !strings.Contains(fwd.Text, "ana@example.org") {
		t.Fatalf("staff chat got:\n%s", fwd.Text)
	}
	c.Close()
	// The adapter links the forwarded message to the question once Telegram
	// has confirmed it; wait for that before a staff member replies.
	tgEventually(t, patience, "the staff message to be linked", func() bool {
		_, m := tgGet(t, "http://"+addr+"/metrics")
		return strings.Contains(m, `impbot_messages_sent_total{platform="telegram"} 1`)
	})
	srv.PushMessage(telegramtest.Msg{ChatID: staff, From: telegramtest.User{ID: 9, Name: "Staff"}, Text: "Yes, with a SOWP.", ReplyTo: fwd.MessageID})
	if ack := srv.WaitSent(t, staff, 2, patience)[1]; !strings.Contains(ack.Text, "Sent to the visitor") {
		t.Fatalf("staff told %q", ack.Text)
	}
	back := webDial(t, addr)
	again := webRoundTrip(t, back, web.In{Type: "hello", SID: h.SID})
	last := again.Entries[len(again.Entries)-1]
	if last.From != "staff" || !strings.Contains(last.HTML, "Yes, with a SOWP.") {
		t.Fatalf("the visitor coming back sees %+v", again.Entries)
	}
	// The origin list from the config applies.
	hd := http.Header{"Origin": {"https://evil.example"}}
	if _, resp, err := websocket.DefaultDialer.Dial("ws://"+addr+"/chat/ws", hd); err == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("a non-listed origin was not refused")
	}
	hd.Set("Origin", "https://consultancy.example")
	if _, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/chat/ws", hd); err != nil {
		t.Errorf("the listed origin was refused: %v", err)
	}
}

func TestWebConfigErrorsNameTheKey(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ yaml, key string }{
		{"web:\n  enabled: true\n  allowed_origins: [\"example.com\"]\n", "web.allowed_origins"},
		{"web:\n  enabled: true\n  theme_color: \"red\"\n", "web.theme_color"},
		{"web:\n  enabled: true\n  colour: \"#fff\"\n", "colour"},
	} {
		_, err := ParseConfig("c.yaml", []byte(c.yaml), os.LookupEnv)
		if err == nil || !strings.Contains(err.Error(), c.key) {
			t.Errorf("%q: error %v, want one naming %s", c.yaml, err, c.key)
		}
	}
}

// TestServeWebOnItsOwnAddress: web.addr other than http.addr gives the web
// chat its own listener; http.addr keeps only the operations endpoints.
func TestServeWebOnItsOwnAddress(t *testing.T) {
	t.Parallel()
	cfg := DemoConfig()
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.Web.Addr = "localhost:0"
	addr, logs, _ := tgServeConfig(t, cfg)
	var webAddr string
	tgEventually(t, patience, "the web chat's listener", func() bool {
		for _, line := range strings.Split(logs.String(), "\n") {
			if strings.Contains(line, "web chat listening") {
				_, a, _ := strings.Cut(line, "addr=")
				webAddr = strings.Fields(a)[0]
				return true
			}
		}
		return false
	})
	if code, body := tgGet(t, "http://"+webAddr+"/"); code != 200 || !strings.Contains(body, "Need help?") {
		t.Errorf("demo page on web.addr: %d", code)
	}
	if code, _ := tgGet(t, "http://"+addr+"/widget.js"); code != http.StatusNotFound {
		t.Errorf("the widget is also served on http.addr (%d)", code)
	}
	tgEventually(t, patience, "/readyz reports the web chat", func() bool {
		code, body := tgGet(t, "http://"+addr+"/readyz")
		return code == 200 && strings.Contains(body, `"web": "ok"`)
	})
	c := webDial(t, webAddr)
	h := webRoundTrip(t, c, web.In{Type: "hello"})
	if o := webRoundTrip(t, c, web.In{Type: "msg", SID: h.SID, ID: "1", Text: "what is a pgwp"}); len(o.Entries) != 2 {
		t.Fatalf("%+v", o)
	}
}
