package discord

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
)

// REST retry policy. discordgo's own 429 handling sleeps without regard to
// the context and retries forever, so it is switched off and replaced by
// this bounded loop.
const (
	maxAttempts = 4
	// maxRateWait is the longest retry_after waited out; longer ones fail
	// the call (a reply that late is worse than none).
	maxRateWait = 30 * time.Second
)

// retryBase is the first backoff after a server or network error.
var retryBase = 250 * time.Millisecond

// restCall runs one REST call with ctx, waiting out 429s (retry_after) and
// retrying 5xx and network errors with backoff, at most maxAttempts times.
// Each failed attempt is counted in Stats.APIError. what names the call in
// errors.
func (a *Adapter) restCall(ctx context.Context, what string, f func(opts ...discordgo.RequestOption) error) error {
	opts := []discordgo.RequestOption{
		discordgo.WithContext(ctx),
		discordgo.WithRetryOnRatelimit(false),
		discordgo.WithRestRetries(0),
	}
	backoff := retryBase
	var err error
	for attempt := 1; ; attempt++ {
		err = f(opts...)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", what, ctx.Err())
		}
		kind, wait, retry := classify(err)
		a.stats.APIError(Platform, kind)
		if !retry || attempt == maxAttempts {
			break
		}
		if wait == 0 {
			wait = backoff
			backoff *= 2
		}
		if wait > maxRateWait {
			break
		}
		if d, ok := ctx.Deadline(); ok && time.Until(d) < wait {
			break
		}
		a.log.Debug("discord API call will be retried", "call", what, "kind", kind, "wait", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s: %w", what, ctx.Err())
		case <-t.C:
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// classify labels an error for metrics and says whether to retry it and
// after how long (0: the caller's backoff).
func classify(err error) (kind string, wait time.Duration, retry bool) {
	var rl *discordgo.RateLimitError
	if errors.As(err, &rl) {
		w := time.Duration(0)
		if rl.RateLimit != nil && rl.TooManyRequests != nil {
			w = rl.RetryAfter
		}
		if w <= 0 {
			w = time.Second
		}
		return "429", w, true
	}
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Response != nil {
		code := re.Response.StatusCode
		switch {
		case code >= 500:
			return "5xx", 0, true
		case code == http.StatusUnauthorized || code == http.StatusForbidden:
			return "auth", 0, false
		default:
			return "4xx", 0, false
		}
	}
	if strings.HasPrefix(err.Error(), "Exceeded Max retries HTTP 502") {
		return "5xx", 0, true
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return "network", 0, true
	}
	if errors.Is(err, discordgo.ErrJSONUnmarshal) {
		return "decode", 0, false
	}
	return "other", 0, false
}

// restCode returns the Discord error code of a REST error (e.g. 10062
// Unknown interaction), or 0.
func restCode(err error) int {
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Message != nil {
		return re.Message.Code
	}
	return 0
}
