package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Recover turns a panic in the handler into an error, so one bad message
// never takes the bot down.
func Recover() Middleware {
	return func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, req *Request) (resp *Response, err error) {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
					resp = nil
				}
			}()
			return next.Handle(ctx, req)
		})
	}
}

// ErrorReply is the outermost safety net: when the handler fails it logs the
// error and answers with an apology instead of staying silent.
func ErrorReply(log *slog.Logger) Middleware {
	return func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, req *Request) (*Response, error) {
			resp, err := next.Handle(ctx, req)
			if err == nil && resp != nil {
				return resp, nil
			}
			if err != nil {
				log.Error("handler failed", "platform", req.Platform, "user", Pseudonym(req.SessionKey()), "err", err)
			}
			return &Response{Replies: []Reply{{Text: msg(detectLang(req), "error")}}}, nil
		})
	}
}

// Logging logs one line per request: platform, pseudonymous user, what was
// answered and how long it took. Message text is personal data and is logged
// only when logText is true.
func Logging(log *slog.Logger, logText bool) Middleware {
	return func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, req *Request) (*Response, error) {
			start := time.Now()
			resp, err := next.Handle(ctx, req)
			attrs := []any{
				"platform", req.Platform,
				"user", Pseudonym(req.SessionKey()),
				"ms", float64(time.Since(start).Microseconds()) / 1000,
			}
			if req.Action != "" {
				attrs = append(attrs, "action", logAction(req.Action, logText))
			}
			if logText {
				attrs = append(attrs, "text", req.Text)
			}
			if resp != nil && len(resp.Replies) > 0 {
				attrs = append(attrs, "topic", resp.Replies[0].Topic, "score", resp.Replies[0].Score)
			}
			if err != nil {
				attrs = append(attrs, "err", err)
				log.Warn("request", attrs...)
			} else {
				log.Info("request", attrs...)
			}
			return resp, err
		})
	}
}

// logAction keeps a dialogue answer (the user's own data, such as a
// country) out of the log unless message text is logged.
func logAction(action string, logText bool) string {
	if !logText && strings.HasPrefix(action, ActDialogue) {
		return ActDialogue + "…"
	}
	return action
}

// Pseudonym is a short stable hash of an identifier, for logs.
func Pseudonym(id string) string {
	h := sha256.Sum256([]byte("impbot:" + id))
	return hex.EncodeToString(h[:6])
}

// RateLimit allows each user (per platform and chat) burst requests at once
// and then perSecond on average; over the limit the user gets a short notice
// instead of an answer. Idle limiters are evicted.
func RateLimit(perSecond float64, burst int) Middleware {
	type entry struct {
		lim  *rate.Limiter
		seen time.Time
	}
	var (
		mu      sync.Mutex
		users   = map[string]*entry{}
		lastGC  = time.Now()
		idleTTL = 10 * time.Minute
	)
	return func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, req *Request) (*Response, error) {
			if perSecond <= 0 {
				return next.Handle(ctx, req)
			}
			now := time.Now()
			key := req.SessionKey()
			mu.Lock()
			e := users[key]
			if e == nil {
				e = &entry{lim: rate.NewLimiter(rate.Limit(perSecond), burst)}
				users[key] = e
			}
			e.seen = now
			ok := e.lim.AllowN(now, 1)
			if now.Sub(lastGC) > time.Minute {
				for k, v := range users {
					if now.Sub(v.seen) > idleTTL {
						delete(users, k)
					}
				}
				lastGC = now
			}
			mu.Unlock()
			if !ok {
				return &Response{Replies: []Reply{{Text: msg(detectLang(req), "slow_down")}}}, nil
			}
			return next.Handle(ctx, req)
		})
	}
}
