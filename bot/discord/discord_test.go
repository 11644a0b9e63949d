package discord

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/impbot/impbot/bot"
	"github.com/impbot/impbot/bot/discord/discordtest"
	"github.com/impbot/impbot/bot/testmain"
	"github.com/impbot/impbot/index"
	"github.com/impbot/impbot/knowledge"
)

const (
	alice   = "100000000000000101"
	bob     = "100000000000000202"
	guild   = "500000000000000001"
	chGuild = "300000000000000001" // a server channel (mentions only)
	chOpen  = "300000000000000002" // a configured channel (plain messages)
	wait    = 2 * time.Minute      // a ceiling for a stuck test, never a performance requirement
)

// recStats records adapter counts and lets tests wait for them.
type recStats struct {
	mu      sync.Mutex
	changed chan struct{}
	in, out int
	reconn  int
	api     map[string]int
}

func newStats() *recStats { return &recStats{changed: make(chan struct{}), api: map[string]int{}} }

func (s *recStats) bump(f func()) {
	s.mu.Lock()
	f()
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

func (s *recStats) MessageIn(string)          { s.bump(func() { s.in++ }) }
func (s *recStats) MessageOut(string)         { s.bump(func() { s.out++ }) }
func (s *recStats) APIError(_, kind string)   { s.bump(func() { s.api[kind]++ }) }
func (s *recStats) Reconnect(string)          { s.bump(func() { s.reconn++ }) }
func (s *recStats) get(f func() int) int      { s.mu.Lock(); defer s.mu.Unlock(); return f() }
func (s *recStats) apiErrors(kind string) int { return s.get(func() int { return s.api[kind] }) }

func (s *recStats) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(wait)
	for {
		s.mu.Lock()
		ok, ch := cond(), s.changed
		s.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

var (
	ixOnce sync.Once
	testIx *index.Index
	ixErr  error
)

// testKnowledge builds the router over the shipped articles; the index is
// built once for the package and shared (it is read-only).
func testKnowledge(t *testing.T) (*bot.Router, *index.Index) {
	t.Helper()
	ixOnce.Do(func() {
		var b *knowledge.Base
		if b, ixErr = knowledge.LoadShipped(); ixErr == nil {
			testIx, ixErr = index.Build(b)
		}
	})
	if ixErr != nil {
		t.Fatal(ixErr)
	}
	return bot.NewRouter(testIx, bot.Options{}), testIx
}

// TestMain lets up to 8 tests of this package run at once (unless
// -test.parallel is given; by default only GOMAXPROCS do, 2 on the CI
// machine): most of them wait (on rate-limit windows, on discordgo's
// one-second pause when it closes a gateway connection) rather than
// compute. The first backoff after a server error is 20 ms instead of
// 250 ms for the whole binary (set here, before any test runs, as tests
// run at once).
func TestMain(m *testing.M) {
	testmain.Parallel(8)
	retryBase = 20 * time.Millisecond
	testmain.Run(m) // no ThreadSanitizer exit sleep under -race (package testmain)
}

// testLog logs to the test's output. discordgo's own log lines go to the
// logger of the latest adapter built (a package variable), which may be
// another test's: once this test ends its log drops them instead of
// writing to a finished test.
func testLog(t *testing.T) *slog.Logger {
	w := &testWriter{w: t.Output()}
	t.Cleanup(func() { w.mu.Lock(); w.done = true; w.mu.Unlock() })
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct {
	mu   sync.Mutex
	w    io.Writer
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return len(p), nil
	}
	return w.w.Write(p)
}

// start runs the adapter until the test ends; stop ends it and returns Run's
// error.
func start(t *testing.T, a *Adapter) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- a.Run(ctx) }()
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-errc:
			case <-time.After(20 * time.Second):
				t.Fatal("Run did not return after cancel")
			}
		})
		return runErr
	}
	t.Cleanup(func() { stop() })
	return stop
}

func title(t *testing.T, ix *index.Index, id string) string {
	t.Helper()
	a := ix.Base().Article("en", id)
	if a == nil {
		t.Fatalf("no article %s", id)
	}
	return a.Title
}

// checkMessage asserts what every message the bot sends must be.
func checkMessage(t *testing.T, m discordtest.Sent, owner string) {
	t.Helper()
	if u16len(m.Content) > MaxMessage || strings.TrimSpace(m.Content) == "" {
		t.Errorf("content of %d characters", u16len(m.Content))
	}
	if m.AllowedMentions == nil || m.AllowedMentions.Parse == nil || len(m.AllowedMentions.Parse) != 0 {
		t.Errorf("allowed_mentions = %+v, want parse: []", m.AllowedMentions)
	}
	for _, b := range m.Buttons() {
		if len(b.CustomID) > maxCustomID {
			t.Errorf("custom_id %q longer than %d", b.CustomID, maxCustomID)
		}
		o, act, ok := decodeCustomID(b.CustomID)
		if !ok || o != owner || act == "" {
			t.Errorf("custom_id %q decodes to owner %q action %q ok %v, want owner %s", b.CustomID, o, act, ok, owner)
		}
	}
}

func TestEndToEnd(t *testing.T) {
	t.Parallel()
	fake := discordtest.NewServer(t)
	router, ix := testKnowledge(t)
	stats := newStats()
	release := make(chan struct{})
	releaseLong := make(chan struct{})
	long := strings.Repeat("**IEC** pools open in the fall. See [the IEC page](https://www.canada.ca/iec) for details.\n\n", 60)
	h := bot.Chain(bot.HandlerFunc(func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
		switch req.Text {
		case "please wait":
			select {
			case <-release:
			case <-ctx.Done():
			}
		case "long answer please":
			return &bot.Response{Replies: []bot.Reply{{Text: long, Buttons: []bot.Button{{Label: "More", Action: "a:iec-overview"}}}}}, nil
		case "slow long answer please":
			select {
			case <-releaseLong:
			case <-ctx.Done():
			}
			return &bot.Response{Replies: []bot.Reply{{Text: "@everyone <@&123> <@456> @here\n\n" + long, Buttons: []bot.Button{{Label: "More", Action: "a:iec-overview"}}}}}, nil
		}
		return router.Handle(ctx, req)
	}), bot.ErrorReply(testLog(t)), bot.Recover())

	a, err := New(Config{
		Token:     "Bot " + discordtest.Token,
		GuildIDs:  []string{guild},
		Channels:  []string{chOpen},
		Ephemeral: true,
		APIURL:    fake.URL,
		Suggest:   router.Suggest,
		Log:       testLog(t),
		Stats:     stats,
		Workers:   1,
	}, h)
	if err != nil {
		t.Fatal(err)
	}
	a.deferAfter = 300 * time.Millisecond
	a.backoffBase = 50 * time.Millisecond
	stop := start(t, a)

	// Start-up: Identify with the intents, commands registered in the guild.
	cmdCall, err := fake.WaitCall(wait, func(c discordtest.Call) bool {
		return c.Method == "PUT" && c.Path == "/api/v9/applications/"+discordtest.AppID+"/guilds/"+guild+"/commands"
	})
	if err != nil {
		t.Fatal("slash commands not registered in the guild:", err)
	}
	for _, want := range []string{`"name":"ask"`, `"name":"eligibility"`, `"name":"help"`, `"name":"contact"`, `"autocomplete":true`,
		`"name":"back"`, `"name":"restart"`, `"name":"cancel"`, `"name":"forget"`, `"name":"summary"`} {
		if !strings.Contains(string(cmdCall.Body), want) {
			t.Errorf("registered commands lack %s: %s", want, cmdCall.Body)
		}
	}
	ids := fake.Identifies()
	if len(ids) != 1 {
		t.Fatalf("%d identifies, want 1", len(ids))
	}
	const guildMsgs, dms, content = 1 << 9, 1 << 12, 1 << 15
	if ids[0].Intents&(guildMsgs|dms|content) != guildMsgs|dms|content {
		t.Errorf("intents %b lack guild messages, DMs or message content", ids[0].Intents)
	}
	if err := a.Ready(); err != nil {
		t.Errorf("Ready() = %v after connecting", err)
	}

	t.Run("direct message is answered", func(t *testing.T) {
		const ch = "400000000000000001"
		if _, err := fake.SendMessage(discordtest.Message{ChannelID: ch, Author: discordtest.User{ID: alice, Username: "alice"},
			Content: "What is the IEC working holiday program?"}); err != nil {
			t.Fatal(err)
		}
		msgs, err := fake.WaitMessages(ch, 1, wait)
		if err != nil {
			t.Fatal(err)
		}
		m := msgs[0]
		checkMessage(t, m, alice)
		if !strings.Contains(m.Content, title(t, ix, "iec-overview")) {
			t.Errorf("answer does not name the IEC article:\n%s", m.Content)
		}
		if m.Reference != nil {
			t.Errorf("a direct message answer is a reply: %+v", m.Reference)
		}
		if m.Flags&4 == 0 {
			t.Errorf("flags %d: link embeds not suppressed", m.Flags)
		}
		if len(m.Buttons()) == 0 {
			t.Error("no buttons under the answer")
		}
	})

	t.Run("messages from bots and itself are ignored", func(t *testing.T) {
		const ch = "400000000000000002"
		for _, author := range []discordtest.User{{ID: "100000000000000999", Username: "otherbot", Bot: true}, discordtest.Bot} {
			if _, err := fake.SendMessage(discordtest.Message{ChannelID: ch, Author: author, Content: "What is a PGWP?"}); err != nil {
				t.Fatal(err)
			}
		}
		// Events are read in order, so once the person's message is
		// answered the bots' messages have been seen.
		if _, err := fake.SendMessage(discordtest.Message{ChannelID: ch, Author: discordtest.User{ID: alice, Username: "alice"}, Content: "hello"}); err != nil {
			t.Fatal(err)
		}
		if _, err := fake.WaitMessages(ch, 1, wait); err != nil {
			t.Fatal(err)
		}
		msgs, _ := fake.WaitMessages(ch, 0, 0)
		if len(msgs) != 1 || strings.Contains(msgs[0].Content, title(t, ix, "pgwp")) {
			t.Errorf("bots' messages were answered: %d messages: %+v", len(msgs), msgs)
		}
	})

	t.Run("a mention in a server is answered as a reply; other server messages are not", func(t *testing.T) {
		if _, err := fake.SendMessage(discordtest.Message{ChannelID: chGuild, GuildID: guild, Author: discordtest.User{ID: bob, Username: "bob"},
			Content: "is the pgwp an open permit?"}); err != nil {
			t.Fatal(err)
		}
		id, err := fake.SendMessage(discordtest.Message{ChannelID: chGuild, GuildID: guild, Author: discordtest.User{ID: bob, Username: "bob"},
			Content: "<@" + discordtest.BotID + "> is the PGWP an open work permit?", Mentions: []discordtest.User{discordtest.Bot}})
		if err != nil {
			t.Fatal(err)
		}
		msgs, err := fake.WaitMessages(chGuild, 1, wait)
		if err != nil {
			t.Fatal(err)
		}
		checkMessage(t, msgs[0], bob)
		if msgs[0].Reference == nil || msgs[0].Reference.MessageID != id {
			t.Errorf("answer is not a reply to the mention: %+v", msgs[0].Reference)
		}
		if !strings.Contains(msgs[0].Content, title(t, ix, "pgwp")) {
			t.Errorf("answer does not name the PGWP article:\n%s", msgs[0].Content)
		}
		if all, _ := fake.WaitMessages(chGuild, 0, 0); len(all) != 1 {
			t.Errorf("%d messages in the server channel, want 1 (the message without a mention was answered)", len(all))
		}
	})

	t.Run("a plain message in a configured channel is answered", func(t *testing.T) {
		if _, err := fake.SendMessage(discordtest.Message{ChannelID: chOpen, GuildID: guild, Author: discordtest.User{ID: bob, Username: "bob"},
			Content: "How much is the employer compliance fee?"}); err != nil {
			t.Fatal(err)
		}
		msgs, err := fake.WaitMessages(chOpen, 1, wait)
		if err != nil {
			t.Fatal(err)
		}
		checkMessage(t, msgs[0], bob)
		if !strings.Contains(msgs[0].Content, title(t, ix, "employer-compliance-fee")) {
			t.Errorf("answer does not name the fee article:\n%s", msgs[0].Content)
		}
	})

	var askAnswer discordtest.Response
	t.Run("/ask is answered privately", func(t *testing.T) {
		in, err := fake.SendInteraction(discordtest.Interaction{Type: 2, ChannelID: chGuild, GuildID: guild,
			User: discordtest.User{ID: alice, Username: "alice"},
			Data: discordtest.Slash("ask", map[string]string{"question": "Can my spouse get an open work permit while I work in Canada?"})})
		if err != nil {
			t.Fatal(err)
		}
		r, err := fake.WaitResponse(in.ID, wait)
		if err != nil {
			t.Fatal(err)
		}
		if r.Type != 4 || r.Data == nil {
			t.Fatalf("response type %d, want 4 with data", r.Type)
		}
		checkMessage(t, r.Data.Sent, alice)
		if r.Data.Flags&64 == 0 {
			t.Errorf("flags %d: not ephemeral", r.Data.Flags)
		}
		if !strings.Contains(r.Data.Content, title(t, ix, "spousal-owp-workers")) {
			t.Errorf("answer does not name the spousal permit article:\n%s", r.Data.Content)
		}
		askAnswer = r
	})

	t.Run("the chat commands exist as slash commands too", func(t *testing.T) {
		for cmd, want := range map[string]string{
			"forget":  bot.Msg("en", "forgot"),
			"cancel":  bot.Msg("en", "no_dialogue"), // this router has no dialogue
			"back":    bot.Msg("en", "no_dialogue"),
			"restart": bot.Msg("en", "no_dialogue"),
		} {
			in, err := fake.SendInteraction(discordtest.Interaction{Type: 2, ChannelID: chGuild, GuildID: guild,
				User: discordtest.User{ID: alice, Username: "alice"}, Data: discordtest.Slash(cmd, nil)})
			if err != nil {
				t.Fatal(err)
			}
			r, err := fake.WaitResponse(in.ID, wait)
			if err != nil {
				t.Fatal(err)
			}
			if r.Type != 4 || r.Data == nil || r.Data.Flags&64 == 0 || !strings.Contains(r.Data.Content, want) {
				t.Errorf("/%s: %+v, want a private %q", cmd, r, want)
			}
		}
	})

	t.Run("autocomplete offers matching titles and questions", func(t *testing.T) {
		in, err := fake.SendInteraction(discordtest.Interaction{Type: 4, ChannelID: chGuild, GuildID: guild,
			User: discordtest.User{ID: alice, Username: "alice"}, Data: discordtest.Autocomplete("ask", "question", "spous")})
		if err != nil {
			t.Fatal(err)
		}
		r, err := fake.WaitResponse(in.ID, wait)
		if err != nil {
			t.Fatal(err)
		}
		if r.Type != 8 || r.Data == nil || len(r.Data.Choices) == 0 || len(r.Data.Choices) > 25 {
			t.Fatalf("response %+v, want type 8 with 1–25 choices", r)
		}
		for i, c := range r.Data.Choices {
			v, _ := c.Value.(string)
			if len([]rune(c.Name)) > 100 || len([]rune(v)) > 100 || v == "" {
				t.Errorf("choice %d: name %q value %q", i, c.Name, v)
			}
		}
		first := r.Data.Choices[0].Name
		if !strings.Contains(strings.ToLower(first), "spous") {
			t.Errorf("first choice %q does not match what was typed", first)
		}
		// Choosing it answers its article.
		want := router.Suggest(context.Background(), "en", "spous", 1)[0]
		in, err = fake.SendInteraction(discordtest.Interaction{Type: 2, ChannelID: chGuild, GuildID: guild,
			User: discordtest.User{ID: alice, Username: "alice"}, Data: discordtest.Slash("ask", map[string]string{"question": r.Data.Choices[0].Value.(string)})})
		if err != nil {
			t.Fatal(err)
		}
		ans, err := fake.WaitResponse(in.ID, wait)
		if err != nil {
			t.Fatal(err)
		}
		if ans.Data == nil || !strings.Contains(ans.Data.Content, title(t, ix, want.ID)) {
			t.Errorf("choosing %q did not answer %s", first, want.ID)
		}
	})

	t.Run("a button press runs its action", func(t *testing.T) {
		if askAnswer.Data == nil {
			t.Skip("no /ask answer")
		}
		var custom, article string
		for _, b := range askAnswer.Data.Buttons() {
			if _, act, _ := decodeCustomID(b.CustomID); strings.HasPrefix(act, bot.ActArticle) {
				custom, article = b.CustomID, strings.TrimPrefix(act, bot.ActArticle)
				break
			}
		}
		if custom == "" {
			t.Fatalf("no article button in %+v", askAnswer.Data.Buttons())
		}
		msg := map[string]any{"id": "600000000000000001", "channel_id": chGuild, "flags": 64, "content": "…"}
		for _, presser := range []string{alice, bob} {
			in, err := fake.SendInteraction(discordtest.Interaction{Type: 3, ChannelID: chGuild, GuildID: guild,
				User: discordtest.User{ID: presser}, Data: discordtest.ButtonPress(custom), Message: msg})
			if err != nil {
				t.Fatal(err)
			}
			r, err := fake.WaitResponse(in.ID, wait)
			if err != nil {
				t.Fatal(err)
			}
			if r.Type != 4 || r.Data == nil || r.Data.Flags&64 == 0 {
				t.Fatalf("press by %s: response %+v, want a new private message", presser, r)
			}
			if !strings.Contains(r.Data.Content, title(t, ix, article)) {
				t.Errorf("press by %s did not open %s:\n%s", presser, article, r.Data.Content)
			}
			// Its own buttons belong to whoever pressed.
			checkMessage(t, r.Data.Sent, presser)
		}
	})

	t.Run("someone else's dialogue buttons and unknown buttons get a private notice", func(t *testing.T) {
		dlg, _ := encodeCustomID(0, alice, bot.ActDialogue+"yes")
		for custom, want := range map[string]string{dlg: text("en", "not_yours"), "not-ours": text("en", "expired")} {
			in, err := fake.SendInteraction(discordtest.Interaction{Type: 3, ChannelID: chGuild, GuildID: guild,
				User: discordtest.User{ID: bob}, Data: discordtest.ButtonPress(custom),
				Message: map[string]any{"id": "600000000000000002", "channel_id": chGuild}})
			if err != nil {
				t.Fatal(err)
			}
			r, err := fake.WaitResponse(in.ID, wait)
			if err != nil {
				t.Fatal(err)
			}
			if r.Type != 4 || r.Data == nil || r.Data.Flags&64 == 0 || r.Data.Content != want {
				t.Errorf("press of %q: %+v, want private %q", custom, r, want)
			}
		}
	})

	t.Run("slow answers and answers stuck behind them are deferred, then edited in", func(t *testing.T) {
		// One worker: bob's /help waits behind alice's slow question, and
		// must be deferred all the same.
		slow, err := fake.SendInteraction(discordtest.Interaction{Type: 2, ChannelID: chGuild, GuildID: guild,
			User: discordtest.User{ID: alice}, Data: discordtest.Slash("ask", map[string]string{"question": "please wait"})})
		if err != nil {
			t.Fatal(err)
		}
		queued, err := fake.SendInteraction(discordtest.Interaction{Type: 2, ChannelID: chGuild, GuildID: guild,
			User: discordtest.User{ID: bob}, Data: discordtest.Slash("help", nil)})
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range []discordtest.Interaction{slow, queued} {
			r, err := fake.WaitResponse(in.ID, wait)
			if err != nil {
				t.Fatal(err)
			}
			if r.Type != 5 || r.Data == nil || r.Data.Flags&64 == 0 {
				t.Fatalf("response %+v, want a private deferral (type 5)", r)
			}
		}
		close(release)
		for _, in := range []discordtest.Interaction{slow, queued} {
			edit, err := fake.WaitCall(wait, func(c discordtest.Call) bool {
				return c.Method == "PATCH" && c.Path == discordtest.WebhookPrefix(in.Token)+"/messages/@original"
			})
			if err != nil {
				t.Fatal("deferred answer never edited in:", err)
			}
			m, err := edit.Message()
			if err != nil {
				t.Fatal(err)
			}
			checkMessage(t, m, in.User.ID)
			if in.ID == queued.ID && !strings.Contains(m.Content, "/eligibility") {
				t.Errorf("/help answer lacks the commands:\n%s", m.Content)
			}
		}
	})

	t.Run("a long answer is split into follow-ups", func(t *testing.T) {
		in, err := fake.SendInteraction(discordtest.Interaction{Type: 2, ChannelID: chGuild, GuildID: guild,
			User: discordtest.User{ID: alice}, Data: discordtest.Slash("ask", map[string]string{"question": "long answer please"})})
		if err != nil {
			t.Fatal(err)
		}
		r, err := fake.WaitResponse(in.ID, wait)
		if err != nil {
			t.Fatal(err)
		}
		parts := []discordtest.Sent{r.Data.Sent}
		want := len(Split(Format(long), MaxMessage))
		calls, err := fake.WaitCalls(wait, want-1, func(c discordtest.Call) bool {
			return c.Method == "POST" && c.Path == discordtest.WebhookPrefix(in.Token) && c.Status == 200
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range calls {
			m, _ := c.Message()
			parts = append(parts, m)
		}
		var all strings.Builder
		for i, p := range parts {
			if p.Flags&64 == 0 {
				t.Errorf("part %d not private", i)
			}
			if u16len(p.Content) > MaxMessage || strings.Count(p.Content, "**")%2 != 0 {
				t.Errorf("part %d: %d characters, unbalanced bold", i, u16len(p.Content))
			}
			if (len(p.Buttons()) > 0) != (i == len(parts)-1) {
				t.Errorf("part %d of %d has %d buttons; buttons go under the last part", i, len(parts), len(p.Buttons()))
			}
			all.WriteString(p.Content + "\n\n")
		}
		if strings.Count(all.String(), "(https://www.canada.ca/iec)") != 60 {
			t.Error("links were cut or lost")
		}
	})

	t.Run("a slow long answer: the deferral's edit and its follow-ups never ping", func(t *testing.T) {
		in, err := fake.SendInteraction(discordtest.Interaction{Type: 2, ChannelID: chGuild, GuildID: guild,
			User: discordtest.User{ID: alice}, Data: discordtest.Slash("ask", map[string]string{"question": "slow long answer please"})})
		if err != nil {
			t.Fatal(err)
		}
		r, err := fake.WaitResponse(in.ID, wait)
		if err != nil {
			t.Fatal(err)
		}
		if r.Type != 5 {
			t.Fatalf("response type %d, want a deferral (5)", r.Type)
		}
		close(releaseLong)
		edit, err := fake.WaitCall(wait, func(c discordtest.Call) bool {
			return c.Method == "PATCH" && c.Path == discordtest.WebhookPrefix(in.Token)+"/messages/@original"
		})
		if err != nil {
			t.Fatal("deferred answer never edited in:", err)
		}
		m, err := edit.Message()
		if err != nil {
			t.Fatal(err)
		}
		checkMessage(t, m, alice)
		want := len(Split(Format("@everyone <@&123> <@456> @here\n\n"+long), MaxMessage))
		if want < 2 {
			t.Fatal("the answer must need follow-ups")
		}
		calls, err := fake.WaitCalls(wait, want-1, func(c discordtest.Call) bool {
			return c.Method == "POST" && c.Path == discordtest.WebhookPrefix(in.Token) && c.Status == 200
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range calls {
			m, err := c.Message()
			if err != nil {
				t.Fatal(err)
			}
			checkMessage(t, m, alice)
		}
	})

	t.Run("a 429 is waited out and the reply delivered", func(t *testing.T) {
		const ch = "400000000000000003"
		fake.RateLimit("POST", discordtest.ChannelPath(ch), 1, 400*time.Millisecond)
		before := stats.apiErrors("429")
		if _, err := fake.SendMessage(discordtest.Message{ChannelID: ch, Author: discordtest.User{ID: alice}, Content: "What is a PGWP?"}); err != nil {
			t.Fatal(err)
		}
		calls, err := fake.WaitCalls(wait, 2, func(c discordtest.Call) bool {
			return c.Method == "POST" && c.Path == discordtest.ChannelPath(ch)
		})
		if err != nil {
			t.Fatal(err)
		}
		if calls[0].Status != 429 || calls[1].Status != 200 {
			t.Fatalf("statuses %d, %d; want 429 then 200", calls[0].Status, calls[1].Status)
		}
		if gap := calls[1].Time.Sub(calls[0].Time); gap < 400*time.Millisecond {
			t.Errorf("retried after %v, before retry_after (400ms)", gap)
		}
		if n := stats.apiErrors("429") - before; n != 1 {
			t.Errorf("counted %d rate limits, want 1", n)
		}
	})

	t.Run("a server error is retried", func(t *testing.T) {
		const ch = "400000000000000004"
		fake.Fail("POST", discordtest.ChannelPath(ch), 1, 500, `{"message": "Internal Server Error", "code": 0}`, nil)
		if _, err := fake.SendMessage(discordtest.Message{ChannelID: ch, Author: discordtest.User{ID: alice}, Content: "hello"}); err != nil {
			t.Fatal(err)
		}
		if _, err := fake.WaitMessages(ch, 1, wait); err != nil {
			t.Fatal(err)
		}
		if stats.apiErrors("5xx") != 1 {
			t.Errorf("counted %d server errors, want 1", stats.apiErrors("5xx"))
		}
	})

	t.Run("a dropped gateway reconnects and the next message is answered", func(t *testing.T) {
		fake.Drop()
		if err := fake.WaitResumes(1, wait); err != nil {
			t.Fatal(err)
		}
		stats.waitFor(t, "a counted reconnect", func() bool { return stats.reconn == 1 })
		const ch = "400000000000000005"
		if _, err := fake.SendMessage(discordtest.Message{ChannelID: ch, Author: discordtest.User{ID: alice}, Content: "What is a PGWP?"}); err != nil {
			t.Fatal(err)
		}
		msgs, err := fake.WaitMessages(ch, 1, wait)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(msgs[0].Content, title(t, ix, "pgwp")) {
			t.Errorf("answer after reconnecting does not name the PGWP article:\n%s", msgs[0].Content)
		}
		if err := a.Ready(); err != nil {
			t.Errorf("Ready() = %v after reconnecting", err)
		}
	})

	if fake.Heartbeats() == 0 {
		t.Error("no heartbeats sent")
	}
	if err := stop(); err != nil {
		t.Errorf("Run returned %v after cancel, want nil", err)
	}
	if a.Ready() == nil {
		t.Error("Ready() is nil after stopping")
	}
	if stats.get(func() int { return stats.in }) == 0 || stats.get(func() int { return stats.out }) == 0 {
		t.Error("messages in/out not counted")
	}
}

func TestFatalCloseCode(t *testing.T) {
	t.Parallel()
	fake := discordtest.NewServer(t)
	fake.CloseOnIdentify(4014)
	a, err := New(Config{Token: discordtest.Token, APIURL: fake.URL, Channels: []string{chOpen}, Log: testLog(t)}, echo)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	err = a.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "Message Content intent") {
		t.Fatalf("Run() = %v, want an error naming the Message Content intent", err)
	}
	if ctx.Err() != nil {
		t.Error("Run kept retrying a close code that retrying cannot fix")
	}
}

// echo answers with the text it gets.
var echo = bot.HandlerFunc(func(_ context.Context, req *bot.Request) (*bot.Response, error) {
	return &bot.Response{Replies: []bot.Reply{{Text: req.Text}}}, nil
})

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	for _, c := range []Config{{}, {Token: "Bot "}, {Token: "a b"}, {Token: "t", APIURL: "ftp://x"}, {Token: "t", APIURL: "http://"}} {
		if _, err := New(c, echo); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
}
