package discord

// Discord's REST rate limits are per bot token, not per replica: with
// several replicas (Config.Cluster) every REST request first takes a token
// from buckets shared in Redis (bot/cluster's token buckets, timed by the
// Redis server's clock), one for the bot's global limit and one for the
// request's route, so N replicas together stay under each limit instead of
// each learning it from its own 429s. discordgo's own per-process limiter
// still runs behind it.
//
// Route: the method and the path with the major parameter kept (the
// channel, guild or webhook) and other ids replaced, as Discord groups its
// buckets. A route's limit is learned from Discord's X-RateLimit headers
// (Limit, and Reset-After on the first request of a window); until then
// the documented ones apply (5 messages per 5 s per channel). A bucket of
// burst b and rate r lets at most b + r·W requests through in any window W,
// so a limit of L per W becomes burst ⌊L/2⌋ and rate (L − burst)/W: never
// more than L in any window, however the replicas' requests fall in
// Discord's windows.
//
// Redis unreachable: the request goes out under discordgo's per-process
// limiter only (and restCall's bounded 429 handling), never blocked.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/impbot/impbot/bot/cluster"
)

// Limits applied before Discord's headers say otherwise.
const (
	// globalPerSecond is Discord's global limit per bot token.
	globalPerSecond = 50
	// channelMessages per channelWindow is the documented limit of
	// messages sent to one channel.
	channelMessages = 5
	channelWindow   = 5 * time.Second
	// maxSharedWait bounds the wait for a shared bucket (then the request
	// goes out and restCall handles a 429).
	maxSharedWait = 30 * time.Second
	// maxLearned bounds the routes whose limits are remembered.
	maxLearned = 10000
)

type routeLimit struct {
	n   int
	per time.Duration
}

// sharedLimits is an http.RoundTripper taking from the shared buckets
// before each Discord API request.
type sharedLimits struct {
	base  http.RoundTripper
	r     *cluster.Redis
	token string // a hash of the bot token: buckets are per token
	log   interface {
		Debug(msg string, args ...any)
	}

	mu      sync.Mutex
	learned map[string]routeLimit
}

func newSharedLimits(base http.RoundTripper, r *cluster.Redis, botToken string, a *Adapter) *sharedLimits {
	sum := sha256.Sum256([]byte("impbot-discord-token:" + botToken))
	return &sharedLimits{base: base, r: r, token: hex.EncodeToString(sum[:6]), log: a.log, learned: map[string]routeLimit{}}
}

// route names a request's rate-limit bucket: the major parameter (the
// channel, guild or webhook id) is kept, other ids are hidden:
// POST /channels/42/messages, PATCH /channels/42/messages/{id}.
func route(method, path string) string {
	parts := strings.Split(strings.Trim(strings.TrimPrefix(path, "/api/v9"), "/"), "/")
	for i, p := range parts {
		major := i > 0 && (parts[i-1] == "channels" || parts[i-1] == "guilds" || parts[i-1] == "webhooks")
		if !major && isID(p) {
			parts[i] = "{id}"
		}
	}
	return method + " /" + strings.Join(parts, "/")
}

func isID(s string) bool {
	if len(s) < 5 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// limitFor is the route's limit: learned, documented, or none (global only).
func (t *sharedLimits) limitFor(method, rt string) (routeLimit, bool) {
	t.mu.Lock()
	l, ok := t.learned[rt]
	t.mu.Unlock()
	if ok {
		return l, true
	}
	if method == http.MethodPost && strings.HasPrefix(rt, "POST /channels/") && strings.HasSuffix(rt, "/messages") {
		return routeLimit{channelMessages, channelWindow}, true
	}
	return routeLimit{}, false
}

// bucketOf turns "L per W" into a bucket that never lets more than L through
// in any window of W.
func bucketOf(l routeLimit) (perSecond float64, burst int) {
	burst = max(1, l.n/2)
	return float64(l.n-burst) / l.per.Seconds(), burst
}

func (t *sharedLimits) RoundTrip(r *http.Request) (*http.Response, error) {
	rt := route(r.Method, r.URL.Path)
	ctx, cancel := context.WithTimeout(r.Context(), maxSharedWait)
	err := t.r.Take(ctx, "discord:"+t.token+":global", globalPerSecond/2, globalPerSecond/2)
	if err == nil {
		if l, ok := t.limitFor(r.Method, rt); ok {
			rate, burst := bucketOf(l)
			err = t.r.Take(ctx, "discord:"+t.token+":"+rt, rate, burst)
		}
	}
	cancel()
	if err != nil {
		if r.Context().Err() != nil {
			return nil, r.Context().Err()
		}
		t.log.Debug("discord: shared rate limit unavailable; sending under this replica's own limiter", "route", rt, "err", err)
	}
	resp, err := t.base.RoundTrip(r)
	if err == nil {
		t.learn(rt, resp.Header)
	}
	return resp, err
}

// learn records a route's limit from Discord's headers: the limit, and the
// window from the first request of one (Remaining = Limit − 1).
func (t *sharedLimits) learn(rt string, h http.Header) {
	n, err := strconv.Atoi(h.Get("X-RateLimit-Limit"))
	if err != nil || n <= 0 {
		return
	}
	rem, err1 := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
	reset, err2 := strconv.ParseFloat(h.Get("X-RateLimit-Reset-After"), 64)
	if err1 != nil || err2 != nil || rem != n-1 || reset <= 0 || reset > 3600 {
		return
	}
	per := time.Duration(reset * float64(time.Second))
	// Round the window up to 10 ms (the header is the time left, a little
	// under the window).
	per = (per + 10*time.Millisecond - 1).Truncate(10 * time.Millisecond)
	if !strings.Contains(rt, " /channels/") && !strings.Contains(rt, " /guilds/") {
		return // interaction and webhook routes are per interaction: not kept
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if old, ok := t.learned[rt]; ok && old.n == n && old.per >= per {
		return
	}
	if len(t.learned) >= maxLearned {
		clear(t.learned) // bounded; the limits are learned again
	}
	t.learned[rt] = routeLimit{n, per}
}
