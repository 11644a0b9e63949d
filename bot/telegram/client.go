package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// ctxClient gives the library's context-free requests a context, and keeps
// the token (which is part of every request URL) out of errors.
type ctxClient struct {
	ctx   context.Context
	hc    *http.Client
	token string
}

func (c ctxClient) Do(r *http.Request) (*http.Response, error) {
	resp, err := c.hc.Do(r.WithContext(c.ctx))
	if err != nil {
		return nil, redact(err, c.token)
	}
	// The library ignores the HTTP status and decodes the body as JSON; a
	// proxy's HTML error page would surface as a bare JSON syntax error.
	if resp.StatusCode >= 300 && !isJSON(resp.Header.Get("Content-Type")) {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		return nil, &statusError{Code: resp.StatusCode}
	}
	return resp, nil
}

func isJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}

// statusError is an HTTP error without a Bot API body (a proxy or load
// balancer answering instead of Telegram).
type statusError struct{ Code int }

func (e *statusError) Error() string {
	return fmt.Sprintf("HTTP %d %s", e.Code, http.StatusText(e.Code))
}

// redact removes the token from an error (url.Error includes the URL).
func redact(err error, token string) error {
	if token == "" {
		return err
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: strings.ReplaceAll(ue.URL, token, "<token>"), Err: redactedErr{ue.Err, token}}
	}
	if strings.Contains(err.Error(), token) {
		return redactedErr{err, token}
	}
	return err
}

type redactedErr struct {
	err   error
	token string
}

func (e redactedErr) Error() string {
	if e.err == nil {
		return ""
	}
	return strings.ReplaceAll(e.err.Error(), e.token, "<token>")
}
func (e redactedErr) Unwrap() error { return e.err }

// errKind classifies an API call's failure.
type errKind int

const (
	errPermanent errKind = iota // 4xx: retrying will not help
	errFlood                    // 429: wait retry_after
	errTransient                // 5xx, network, malformed response: back off and retry
	errMigrated                 // the group became a supergroup
	errAuth                     // the token was refused
	errConflict                 // 409: another poller or a webhook
	errCanceled                 // our context ended
)

// label is the kind given to Stats.APIError.
func (k errKind) label() string {
	switch k {
	case errFlood:
		return "429"
	case errTransient:
		return "5xx"
	case errAuth:
		return "401"
	case errConflict:
		return "409"
	default:
		return "4xx"
	}
}

type apiErr struct {
	kind       errKind
	code       int
	retryAfter int
	migrateTo  int64
	desc       string
}

func classify(ctx context.Context, err error) apiErr {
	if ctx.Err() != nil {
		return apiErr{kind: errCanceled}
	}
	var te *tgbotapi.Error
	if errors.As(err, &te) {
		e := apiErr{code: te.Code, desc: te.Message, retryAfter: te.RetryAfter, migrateTo: te.MigrateToChatID}
		switch {
		case te.Code == http.StatusTooManyRequests || te.RetryAfter > 0:
			e.kind = errFlood
		case te.MigrateToChatID != 0:
			e.kind = errMigrated
		case te.Code == http.StatusUnauthorized || te.Code == http.StatusNotFound && strings.EqualFold(te.Message, "Not Found"):
			// Telegram answers 401 for a revoked token and 404 for a
			// malformed one.
			e.kind = errAuth
		case te.Code == http.StatusConflict:
			e.kind = errConflict
		case te.Code >= 500 || te.Code == 0:
			e.kind = errTransient
		default:
			e.kind = errPermanent
		}
		return e
	}
	var se *statusError
	if errors.As(err, &se) {
		e := apiErr{code: se.Code, desc: se.Error(), kind: errTransient}
		switch {
		case se.Code == http.StatusTooManyRequests:
			e.kind = errFlood
		case se.Code == http.StatusUnauthorized:
			e.kind = errAuth
		case se.Code < 500:
			e.kind = errPermanent
		}
		return e
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		// A per-call timeout (our context is still alive): a network problem.
		return apiErr{kind: errTransient, desc: "timeout"}
	}
	var se2 *json.SyntaxError
	if errors.As(err, &se2) {
		return apiErr{kind: errTransient, desc: "malformed response"}
	}
	return apiErr{kind: errTransient, desc: err.Error()}
}

func (e apiErr) String() string {
	if e.code != 0 {
		return fmt.Sprintf("%d %s", e.code, e.desc)
	}
	return e.desc
}

// backoff is a jittered exponential delay.
type backoff struct {
	min, max time.Duration
	cur      time.Duration
}

func (b *backoff) next() time.Duration {
	if b.cur < b.min {
		b.cur = b.min
	} else {
		b.cur *= 2
		if b.cur > b.max {
			b.cur = b.max
		}
	}
	// Full jitter in [cur/2, cur].
	half := b.cur / 2
	if half <= 0 {
		return b.cur
	}
	return half + rand.N(half+1)
}

func (b *backoff) reset() { b.cur = 0 }

// sleep waits d or until ctx ends; it reports whether the full wait elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
