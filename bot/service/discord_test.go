package service

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/impbot/impbot/bot/discord/discordtest"
)

// TestDiscordEligibilityDialogue runs `impbot serve` with the Discord adapter
// against a fake Discord and completes the eligibility dialogue through
// buttons (typing only the country and the age, by mentioning the bot), while
// another member presses the dialogue's buttons in vain.
func TestDiscordEligibilityDialogue(t *testing.T) {
	t.Parallel()
	const (
		guild  = "500000000000000001"
		chA    = "300000000000000011" // alice's channel
		chC    = "300000000000000012" // carol's: the same answers, undisturbed
		alice  = "100000000000000101"
		bob    = "100000000000000202"
		carol  = "100000000000000303"
		wait   = patience
		ireIEC = "International Experience Canada"
	)
	fake := discordtest.NewServer(t)
	cfg := DefaultConfig()
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.Sessions.Path = filepath.Join(t.TempDir(), "sessions.db")
	cfg.RateLimit.PerSecond = 0
	eph := true
	cfg.Discord = DiscordConfig{Enabled: true, Token: discordtest.Token, APIURL: fake.URL, Ephemeral: &eph}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))

	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	errc := make(chan error, 1)
	go func() { errc <- serve(ctx, cfg, log, ready) }()
	defer func() {
		cancel()
		select {
		case err := <-errc:
			if err != nil {
				t.Errorf("serve returned %v", err)
			}
		case <-time.After(patience):
			t.Error("serve did not stop")
		}
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-errc:
		t.Fatal("serve:", err)
	case <-time.After(wait):
		t.Fatal("serve did not start")
	}
	// No guilds configured: the commands are registered globally.
	if _, err := fake.WaitCall(wait, func(c discordtest.Call) bool {
		return c.Method == "PUT" && c.Path == "/api/v9/applications/"+discordtest.AppID+"/commands" && c.Status == 200
	}); err != nil {
		t.Fatal("slash commands not registered globally:", err)
	}
	res, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	var checks map[string]string
	json.NewDecoder(res.Body).Decode(&checks)
	res.Body.Close()
	if checks["discord"] != "ok" {
		t.Errorf("/readyz = %v, want discord ok", checks)
	}

	// view is the message that shows the current question.
	type view struct {
		content string
		buttons []discordtest.Button
		msg     map[string]any
	}
	actionOf := func(b discordtest.Button) string {
		// <index>.<owner>.<action>
		parts := strings.SplitN(b.CustomID, ".", 3)
		if len(parts) != 3 {
			t.Fatalf("custom_id %q", b.CustomID)
		}
		return parts[2]
	}
	press := func(ch, user string, b discordtest.Button, msg map[string]any) discordtest.Response {
		t.Helper()
		in, err := fake.SendInteraction(discordtest.Interaction{Type: 3, ChannelID: ch, GuildID: guild,
			User: discordtest.User{ID: user}, Data: discordtest.ButtonPress(b.CustomID), Message: msg})
		if err != nil {
			t.Fatal(err)
		}
		r, err := fake.WaitResponse(in.ID, wait)
		if err != nil || r.Data == nil {
			t.Fatalf("press %q: %+v, %v", b.CustomID, r, err)
		}
		return r
	}
	sent := map[string]int{}
	say := func(ch, user, text string) view {
		t.Helper()
		if _, err := fake.SendMessage(discordtest.Message{ChannelID: ch, GuildID: guild, Author: discordtest.User{ID: user},
			Content: "<@" + discordtest.BotID + "> " + text, Mentions: []discordtest.User{discordtest.Bot}}); err != nil {
			t.Fatal(err)
		}
		msgs, err := fake.WaitMessages(ch, sent[ch]+1, wait)
		if err != nil {
			t.Fatal(err)
		}
		sent[ch] = len(msgs)
		m := msgs[len(msgs)-1]
		return view{m.Content, m.Buttons(), map[string]any{"id": "700000000000000002", "channel_id": ch}}
	}

	// run goes through the dialogue as user in ch, choosing "no" (or
	// "none", or the first option) and typing Ireland and 25. disturb is
	// called on each question shown by a button press.
	run := func(ch, user string, disturb func(v view)) (questions []string, result string) {
		t.Helper()
		in, err := fake.SendInteraction(discordtest.Interaction{Type: 2, ChannelID: ch, GuildID: guild,
			User: discordtest.User{ID: user}, Data: discordtest.Slash("eligibility", nil)})
		if err != nil {
			t.Fatal(err)
		}
		r, err := fake.WaitResponse(in.ID, wait)
		if err != nil || r.Type != 4 || r.Data == nil || r.Data.Flags&64 == 0 {
			t.Fatalf("/eligibility: %+v, %v; want a private message", r, err)
		}
		v := view{r.Data.Content, r.Data.Buttons(), map[string]any{"id": "700000000000000001", "channel_id": ch, "flags": 64}}
		for range 30 {
			questions = append(questions, strings.SplitN(v.content, "\n", 2)[0])
			var answers []discordtest.Button
			done := false
			for _, b := range v.buttons {
				switch a := actionOf(b); {
				case strings.HasPrefix(a, "d:"):
					answers = append(answers, b)
				case a == "c:eligibility":
					done = true
				}
			}
			if done {
				return questions, v.content
			}
			if len(answers) == 0 {
				switch {
				case strings.Contains(v.content, "citizenship"):
					v = say(ch, user, "Ireland")
				case strings.Contains(v.content, "How old"):
					v = say(ch, user, "25")
				default:
					t.Fatalf("a question without buttons that this test cannot answer:\n%s", v.content)
				}
				continue
			}
			if disturb != nil {
				disturb(v)
			}
			choice := answers[0]
			for _, b := range answers {
				if a := actionOf(b); strings.HasSuffix(a, "=no") || strings.HasSuffix(a, "=none") || a == "d:no" || a == "d:none" {
					choice = b
				}
			}
			r := press(ch, user, choice, v.msg)
			if r.Type != 7 {
				t.Fatalf("answering by button: response type %d, want 7 (the question message is updated)", r.Type)
			}
			v = view{r.Data.Content, r.Data.Buttons(), v.msg}
		}
		t.Fatal("the dialogue did not end within 30 steps")
		return nil, ""
	}

	bobPresses := 0
	aliceQs, aliceResult := run(chA, alice, func(v view) {
		// Bob presses each of alice's answer buttons: a private notice,
		// alice's dialogue untouched.
		for _, b := range v.buttons {
			if !strings.HasPrefix(actionOf(b), "d:") {
				continue
			}
			r := press(chA, bob, b, v.msg)
			if r.Type != 4 || r.Data.Flags&64 == 0 || !strings.Contains(r.Data.Content, "someone else") {
				t.Errorf("bob's press: %+v, want a private notice", r)
			}
			bobPresses++
		}
	})
	if bobPresses == 0 {
		t.Fatal("bob never pressed")
	}
	carolQs, carolResult := run(chC, carol, nil)
	if strings.Join(aliceQs, "\n") != strings.Join(carolQs, "\n") || aliceResult != carolResult {
		t.Errorf("bob's presses changed alice's dialogue:\nalice: %q\ncarol: %q", aliceQs, carolQs)
	}
	if !strings.Contains(aliceResult, ireIEC) {
		t.Errorf("result for a 25-year-old Irish worker does not suggest IEC:\n%s", aliceResult)
	}
	if len(aliceQs) < 5 {
		t.Errorf("only %d questions: %q", len(aliceQs), aliceQs)
	}
}

// TestDiscordShards: discord.shards (a number or auto) and discord.shard_ids
// open one gateway connection per shard, each identifying as [id, count]
// (discordgo's ShardID/ShardCount); the slash commands are registered once.
func TestDiscordShards(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		shards string
		ids    []int
		want   [][]int
	}{
		{"3", []int{0, 2}, [][]int{{0, 3}, {2, 3}}},
		{"auto", nil, [][]int{{0, discordtest.RecommendedShards}, {1, discordtest.RecommendedShards}}},
	} {
		t.Run(tc.shards, func(t *testing.T) {
			fake := discordtest.NewServer(t)
			cfg := DefaultConfig()
			cfg.HTTP.Addr = "127.0.0.1:0"
			cfg.Sessions.Path = filepath.Join(t.TempDir(), "sessions.db")
			cfg.Discord = DiscordConfig{Enabled: true, Token: discordtest.Token, APIURL: fake.URL, ApplicationID: "42",
				Shards: tc.shards, ShardIDs: tc.ids}
			// The shards are not about the knowledge: a small one builds faster.
			cfg.Knowledge.Dir = filepath.Join(t.TempDir(), "knowledge")
			opsSmallKnowledge(t, cfg.Knowledge.Dir, opsSmallIDs...)
			ctx, cancel := context.WithCancel(context.Background())
			ready := make(chan string, 1)
			errc := make(chan error, 1)
			go func() { errc <- serve(ctx, cfg, slog.New(slog.DiscardHandler), ready) }()
			defer func() {
				cancel()
				select {
				case err := <-errc:
					if err != nil {
						t.Errorf("serve returned %v", err)
					}
				case <-time.After(patience):
					t.Error("serve did not stop")
				}
			}()
			var addr string
			select {
			case addr = <-ready:
			case err := <-errc:
				t.Fatal("serve:", err)
			case <-time.After(patience):
				t.Fatal("serve did not start")
			}
			deadline := time.Now().Add(patience)
			for {
				resp, err := http.Get("http://" + addr + "/readyz")
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						break
					}
				}
				if time.Now().After(deadline) {
					t.Fatal("shards not ready")
				}
				time.Sleep(20 * time.Millisecond)
			}
			var got [][]int
			for _, id := range fake.Identifies() {
				got = append(got, id.Shard)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("identifies %v, want %v", got, tc.want)
			}
			for _, w := range tc.want {
				found := false
				for _, g := range got {
					if len(g) == 2 && g[0] == w[0] && g[1] == w[1] {
						found = true
					}
				}
				if !found {
					t.Fatalf("identifies %v, want %v", got, tc.want)
				}
			}
			if _, err := fake.WaitCall(patience, func(c discordtest.Call) bool { return strings.HasSuffix(c.Path, "/commands") }); err != nil {
				t.Fatal("commands never registered:", err)
			}
			n := 0
			for _, c := range fake.Calls() {
				if c.Method == http.MethodPut && strings.HasSuffix(c.Path, "/commands") {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("commands registered %d times, want once", n)
			}
		})
	}
}
