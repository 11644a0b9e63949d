package discord

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/impbot/impbot/bot"
	"github.com/impbot/impbot/bot/cluster"
	"github.com/impbot/impbot/bot/discord/discordtest"
	"github.com/impbot/impbot/bot/redistest"
)

func TestRoute(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"POST /api/v9/channels/1234567890/messages":                        "POST /channels/1234567890/messages",
		"PATCH /api/v9/channels/1234567890/messages/99999999999":           "PATCH /channels/1234567890/messages/{id}",
		"POST /api/v9/interactions/1234567890123/tok-en/callback":          "POST /interactions/{id}/tok-en/callback",
		"PATCH /api/v9/webhooks/999000000000000001/tok/messages/@original": "PATCH /webhooks/999000000000000001/tok/messages/@original",
		"PUT /api/v9/applications/999000000000000001/commands":             "PUT /applications/{id}/commands",
	}
	for in, want := range cases {
		var m, p string
		fmt.Sscan(in, &m, &p)
		if got := route(m, p); got != want {
			t.Errorf("route(%s) = %q, want %q", in, got, want)
		}
	}
	if r, b := bucketOf(routeLimit{5, 5 * time.Second}); b != 2 || r*5+float64(b) > 5 {
		t.Errorf("bucket of 5/5s: rate %v burst %d lets more than 5 through in 5 s", r, b)
	}
}

// restReplica is one replica's REST side: an adapter (not connected to the
// gateway: only its REST client is used) sharing the Redis.
func restReplica(t *testing.T, srv *discordtest.Server, c *cluster.Redis) (*Adapter, *recStats) {
	t.Helper()
	st := newStats()
	a, err := New(Config{Token: discordtest.Token, APIURL: srv.URL, Cluster: c, Stats: st, Log: testLog(t)},
		bot.HandlerFunc(func(context.Context, *bot.Request) (*bot.Response, error) { return nil, nil }))
	if err != nil {
		t.Fatal(err)
	}
	return a, st
}

// burst sends n messages to channel from each adapter at once and returns
// how many failed.
func burst(t *testing.T, as []*Adapter, channel string, n int) int {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := 0
	for ai, a := range as {
		for i := range n {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				err := a.restCall(ctx, "send message", func(opts ...discordgo.RequestOption) error {
					_, err := a.s.ChannelMessageSendComplex(channel, &discordgo.MessageSend{Content: fmt.Sprintf("r%d m%d", ai, i)}, opts...)
					return err
				})
				if err != nil {
					mu.Lock()
					failed++
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	return failed
}

// TestSharedRateLimits: two replicas send to one channel at once; the fake
// enforces 10 messages per 500 ms on it (sliding window: a short one, so
// the test waits less; the adapter learns it from the fake's headers). Sharing the
// buckets in Redis, the two together never exceed it: no 429 at all, every
// message delivered. Without Redis, the same burst exceeds it (the fake
// does catch an excess). With Redis stopped, messages still go out.
func TestSharedRateLimits(t *testing.T) {
	t.Parallel()
	const channel = "555000000000000001"
	const perReplica = 15
	const window = 500 * time.Millisecond
	rds := redistest.Start(t)
	srv := discordtest.NewServer(t)
	srv.Limit(http.MethodPost, discordtest.ChannelPath(channel), 10, window)
	var as []*Adapter
	var sts []*recStats
	for range 2 {
		c, err := cluster.Open(cluster.Options{URL: rds.URL(), Prefix: "dcbot", Timeout: 500 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		a, st := restReplica(t, srv, c)
		as, sts = append(as, a), append(sts, st)
	}
	start := time.Now()
	if failed := burst(t, as, channel, perReplica); failed != 0 {
		t.Fatalf("%d messages failed", failed)
	}
	took := time.Since(start)
	if n := srv.Exceeded(); n != 0 {
		t.Fatalf("the fake saw its limit exceeded %d times", n)
	}
	for i, st := range sts {
		if n := st.apiErrors("429"); n != 0 {
			t.Fatalf("replica %d got %d 429s", i, n)
		}
	}
	if msgs, err := srv.WaitMessages(channel, 2*perReplica, wait); err != nil || len(msgs) != 2*perReplica {
		t.Fatalf("delivered %d of %d: %v", len(msgs), 2*perReplica, err)
	}
	t.Logf("%d messages through two replicas in %v (limit 10 per %v)", 2*perReplica, took.Round(time.Millisecond), window)

	// Redis stopped: not blocked, sent under each replica's own limiter.
	rds.Stop()
	if failed := burst(t, as[:1], channel, 1); failed != 0 {
		t.Fatal("with redis down a message was not sent")
	}

	// Control: without the shared buckets the same burst exceeds the limit.
	ctl := discordtest.NewServer(t)
	ctl.Limit(http.MethodPost, discordtest.ChannelPath(channel), 10, window)
	a1, _ := restReplica(t, ctl, nil)
	a2, _ := restReplica(t, ctl, nil)
	burst(t, []*Adapter{a1, a2}, channel, perReplica)
	if ctl.Exceeded() == 0 {
		t.Fatal("control: two replicas without shared buckets never exceeded the limit; the test cannot tell")
	}
}
