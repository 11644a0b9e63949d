package discord

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/impbot/impbot/bot"
	"github.com/impbot/impbot/bot/discord/discordtest"
)

func deferredIDs(t *testing.T, db *bbolt.DB) []string {
	t.Helper()
	var ids []string
	err := db.View(func(tx *bbolt.Tx) error {
		if b := tx.Bucket(deferredBucket); b != nil {
			return b.ForEach(func(k, _ []byte) error { ids = append(ids, string(k)); return nil })
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestDeferredInteractionAnsweredAfterAbruptStop: an interaction deferred
// ("thinking…") by a bot that then dies without answering is answered by
// the next start, once, with mentions disabled; an expired one is dropped.
func TestDeferredInteractionAnsweredAfterAbruptStop(t *testing.T) {
	t.Parallel()
	fake := discordtest.NewServer(t)
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "s.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cfg := Config{Token: "Bot " + discordtest.Token, GuildIDs: []string{guild}, Ephemeral: true, APIURL: fake.URL,
		Log: testLog(t), DB: db, Workers: 1}

	// The first run never answers: its handler hangs as if the process had
	// been killed.
	dead := make(chan struct{})
	hang := bot.HandlerFunc(func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
		<-dead
		return nil, context.Canceled
	})
	first, err := New(cfg, hang)
	if err != nil {
		t.Fatal(err)
	}
	first.deferAfter = 50 * time.Millisecond
	start(t, first)
	t.Cleanup(func() { close(dead) }) // runs before the first adapter's stop
	if err := fake.WaitConnected(wait); err != nil {
		t.Fatal(err)
	}
	in, err := fake.SendInteraction(discordtest.Interaction{Type: 2, ChannelID: chGuild, GuildID: guild,
		User: discordtest.User{ID: alice}, Data: discordtest.Slash("ask", map[string]string{"question": "@everyone what is a pgwp"})})
	if err != nil {
		t.Fatal(err)
	}
	r, err := fake.WaitResponse(in.ID, wait)
	if err != nil {
		t.Fatal(err)
	}
	if r.Type != 5 {
		t.Fatalf("response type %d, want a deferral", r.Type)
	}
	if ids := deferredIDs(t, db); len(ids) != 1 || ids[0] != in.ID {
		t.Fatalf("deferred interaction not on disk: %v", ids)
	}
	// An expired one, left by an older run.
	old, _ := json.Marshal(deferredRecord{ID: "1", AppID: discordtest.AppID, Token: "tok-old", Type: 2, ChannelID: chGuild,
		Owner: bob, Req: &bot.Request{Platform: Platform, ChatID: chGuild, UserID: bob, Text: "old"}, Expires: time.Now().Add(-time.Minute)})
	if err := db.Update(func(tx *bbolt.Tx) error { return tx.Bucket(deferredBucket).Put([]byte("1"), old) }); err != nil {
		t.Fatal(err)
	}

	answer := bot.HandlerFunc(func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
		return &bot.Response{Replies: []bot.Reply{{Text: "answer to " + req.Text}}}, nil
	})
	second, err := New(cfg, answer)
	if err != nil {
		t.Fatal(err)
	}
	start(t, second)
	edit, err := fake.WaitCall(wait, func(c discordtest.Call) bool {
		return c.Method == "PATCH" && c.Path == discordtest.WebhookPrefix(in.Token)+"/messages/@original"
	})
	if err != nil {
		t.Fatal("the deferred interaction was not answered after the restart:", err)
	}
	m, err := edit.Message()
	if err != nil {
		t.Fatal(err)
	}
	checkMessage(t, m, alice)
	if !strings.Contains(m.Content, "answer to @everyone what is a pgwp") {
		t.Errorf("answer %q", m.Content)
	}
	deadline := time.Now().Add(wait)
	for len(deferredIDs(t, db)) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("records left: %v", deferredIDs(t, db))
		}
		time.Sleep(5 * time.Millisecond)
	}
	n := 0
	for _, c := range fake.Calls() {
		if strings.Contains(c.Path, "tok-old") {
			t.Errorf("expired interaction answered: %s %s", c.Method, c.Path)
		}
		if c.Method == "PATCH" && c.Path == discordtest.WebhookPrefix(in.Token)+"/messages/@original" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("deferred answer edited in %d times, want once", n)
	}
}
