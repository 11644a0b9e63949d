package telegram

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/impbot/impbot/bot/cluster"
)

// poll is the long-polling loop. It advances the offset only past updates
// whose handling has finished (their replies are queued), honours
// retry_after, backs off on server and network errors, and on shutdown
// acknowledges the last batch so it is not delivered again.
func (a *Adapter) poll(ctx context.Context) error {
	// Polling and a webhook exclude each other (getUpdates answers 409 while
	// a webhook is set).
	if err := a.call(ctx, "deleteWebhook", 3, func(api *tgbotapi.BotAPI) error {
		_, err := api.Request(tgbotapi.DeleteWebhookConfig{})
		return err
	}); err != nil && ctx.Err() == nil {
		a.log.Warn("cannot delete the webhook before polling", "err", err)
	}
	a.setStatus("")
	cfg := tgbotapi.UpdateConfig{Timeout: int(a.t.PollTimeout / time.Second), AllowedUpdates: allowedUpdates}
	bo := a.backoff()
	unacked := false
	fails := 0
	for ctx.Err() == nil {
		pctx, cancel := context.WithTimeout(ctx, a.t.PollTimeout+a.t.RequestTimeout)
		ups, err := a.getUpdates(pctx, cfg)
		cancel()
		if err != nil {
			e := classify(ctx, err)
			if e.kind == errCanceled {
				break
			}
			a.stats.APIError(platform, e.kind.label())
			if e.kind == errAuth {
				return fmt.Errorf("%w (getUpdates: %s)", ErrUnauthorized, e)
			}
			fails++
			wait := bo.next()
			switch e.kind {
			case errFlood:
				wait = time.Duration(max(e.retryAfter, 1)) * a.t.RetryAfterUnit
			case errConflict:
				a.log.Error("getUpdates conflict: another instance is polling with this token, or a webhook is set",
					"err", e.String(), "in", wait)
			}
			if fails >= 3 {
				a.setStatus("getUpdates failing: " + e.String())
			}
			if e.kind != errConflict {
				a.log.Warn("getUpdates failed, retrying", "err", e.String(), "attempt", fails, "in", wait)
			}
			sleep(ctx, wait)
			continue
		}
		fails = 0
		bo.reset()
		a.setStatus("")
		unacked = len(ups) > 0
		if len(ups) == 0 {
			continue
		}
		a.handleBatch(ups)
		for _, u := range ups {
			if u.UpdateID >= cfg.Offset {
				cfg.Offset = u.UpdateID + 1
			}
		}
	}
	if unacked {
		// Confirm the last batch: Telegram forgets updates below the offset
		// only when a later getUpdates sends it.
		ack := tgbotapi.UpdateConfig{Offset: cfg.Offset, Limit: 1, AllowedUpdates: allowedUpdates}
		actx, cancel := context.WithTimeout(context.Background(), min(a.t.RequestTimeout, 10*time.Second))
		_, err := a.getUpdates(actx, ack)
		cancel()
		if err != nil {
			a.log.Warn("cannot acknowledge the last updates; they may be delivered again", "err", classify(context.Background(), err).String())
		}
	}
	return nil
}

// getUpdates fetches updates, decoding each one separately: an update the
// library cannot decode is skipped (logged) instead of blocking the queue.
func (a *Adapter) getUpdates(ctx context.Context, cfg tgbotapi.UpdateConfig) ([]tgbotapi.Update, error) {
	resp, err := a.api(ctx).Request(cfg)
	if err != nil {
		return nil, err
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(resp.Result, &raws); err != nil {
		return nil, fmt.Errorf("getUpdates: %w", err)
	}
	ups := make([]tgbotapi.Update, 0, len(raws))
	for _, raw := range raws {
		var u tgbotapi.Update
		if err := json.Unmarshal(raw, &u); err != nil {
			var id struct {
				UpdateID int `json:"update_id"`
			}
			if json.Unmarshal(raw, &id) != nil {
				return nil, fmt.Errorf("getUpdates: update without an id: %w", err)
			}
			a.log.Warn("skipping an update that cannot be decoded", "update_id", id.UpdateID, "err", err)
			ups = append(ups, tgbotapi.Update{UpdateID: id.UpdateID})
			continue
		}
		ups = append(ups, u)
	}
	return ups, nil
}

// handleBatch handles a batch of updates: in order within a chat, several
// chats at once. It returns when all are handled.
func (a *Adapter) handleBatch(ups []tgbotapi.Update) {
	groups := map[int64][]tgbotapi.Update{}
	var order []int64
	for _, u := range ups {
		k := chatOf(u)
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], u)
	}
	sem := make(chan struct{}, a.t.Workers)
	var wg sync.WaitGroup
	for _, k := range order {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			for _, u := range groups[k] {
				a.handlePolled(u)
			}
		})
	}
	wg.Wait()
}

// handlePolled handles a polled update; with several replicas, once: a new
// leader that takes over gets again the updates its predecessor handled
// but could not confirm.
func (a *Adapter) handlePolled(u tgbotapi.Update) {
	if a.cfg.Cluster == nil {
		a.handleUpdate(u)
		return
	}
	id := strconv.Itoa(u.UpdateID)
	// A predecessor that died while handling it holds a claim until its
	// lease ends: wait for it rather than skip (and lose) the update.
	deadline := time.Now().Add(updateClaimLease + time.Second)
	var claim cluster.Claim
	var err error
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		claim, err = a.cfg.Cluster.Begin(ctx, "tg-update", id, updateClaimLease)
		cancel()
		if err != nil || claim != cluster.Busy || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err == nil && claim != cluster.Mine {
		return
	}
	if err == nil {
		stop := a.cfg.Cluster.Hold("tg-update", id, updateClaimLease)
		a.handle(u, u.UpdateID)
		stop()
	} else {
		a.handleUpdate(u)
	}
	if err == nil {
		fctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = a.cfg.Cluster.Finish(fctx, "tg-update", id, updateDoneTTL)
		cancel()
	}
}

func chatOf(u tgbotapi.Update) int64 {
	switch {
	case u.Message != nil && u.Message.Chat != nil:
		return u.Message.Chat.ID
	case u.CallbackQuery != nil && u.CallbackQuery.Message != nil && u.CallbackQuery.Message.Chat != nil:
		return u.CallbackQuery.Message.Chat.ID
	case u.CallbackQuery != nil && u.CallbackQuery.From != nil:
		return u.CallbackQuery.From.ID
	}
	return 0
}

// runWebhook registers the webhook (with its secret token) and serves until
// ctx ends; then it refuses new updates (Telegram redelivers them later)
// and waits for those in progress.
func (a *Adapter) runWebhook(ctx context.Context) error {
	allowed, _ := json.Marshal(allowedUpdates)
	params := tgbotapi.Params{
		"url":             a.cfg.Webhook.URL,
		"secret_token":    a.cfg.Webhook.SecretToken,
		"allowed_updates": string(allowed),
	}
	bo := a.backoff()
	for attempt := 1; ; attempt++ {
		err := a.call(ctx, "setWebhook", 1, func(api *tgbotapi.BotAPI) error {
			_, err := api.MakeRequest("setWebhook", params)
			return err
		})
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		var ce *callError
		if errors.As(err, &ce) {
			switch ce.e.kind {
			case errAuth:
				return fmt.Errorf("%w (%s)", ErrUnauthorized, err)
			case errPermanent, errConflict, errMigrated:
				return fmt.Errorf("Telegram refused the webhook: %w", err)
			}
		}
		wait := bo.next()
		a.setStatus("cannot set the webhook: " + err.Error())
		a.log.Warn("cannot set the webhook, retrying", "err", err, "attempt", attempt, "in", wait)
		if !sleep(ctx, wait) {
			return nil
		}
	}
	a.accepting.Store(true)
	a.setStatus("")
	a.log.Info("webhook set")
	<-ctx.Done()
	a.accepting.Store(false)
	a.inflight.Lock() // wait for the updates being handled
	a.inflight.Unlock()
	return nil
}

// SecretHeader is the header carrying the webhook's secret token.
const SecretHeader = "X-Telegram-Bot-Api-Secret-Token"

// WebhookHandler serves the webhook: it checks the secret token (in
// constant time), answers 503 while the adapter is not running (Telegram
// retries), handles the update and answers 200 once its replies are queued.
func (a *Adapter) WebhookHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		want := ""
		if a.cfg.Webhook != nil {
			want = a.cfg.Webhook.SecretToken
		}
		got := r.Header.Get(SecretHeader)
		if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			a.log.Warn("webhook: request with a wrong secret token refused", "remote", r.RemoteAddr)
			http.Error(w, "forbidden", http.StatusUnauthorized)
			return
		}
		a.inflight.RLock()
		defer a.inflight.RUnlock()
		if !a.accepting.Load() {
			w.Header().Set("Retry-After", "5")
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "cannot read the update", http.StatusBadRequest)
			return
		}
		var u tgbotapi.Update
		if err := json.Unmarshal(body, &u); err != nil {
			a.log.Warn("webhook: malformed update", "err", err)
			http.Error(w, "malformed update", http.StatusBadRequest)
			return
		}
		if a.cfg.Cluster == nil {
			if a.seen.add(u.UpdateID) {
				a.handleUpdate(u)
			}
			w.WriteHeader(http.StatusOK)
			return
		}
		// Several replicas: claim the update in Redis so it is answered once,
		// whichever replica Telegram (re)delivers it to. A claim whose
		// replica died expires, and the redelivery is then handled.
		id := strconv.Itoa(u.UpdateID)
		claim, err := a.cfg.Cluster.Begin(r.Context(), "tg-update", id, updateClaimLease)
		switch {
		case err != nil && a.cfg.Cluster.Up():
			// Redis slow, not gone: let Telegram deliver it again.
			w.Header().Set("Retry-After", "1")
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		case err != nil:
			// Redis unreachable: fall back to this replica's memory.
			if a.seen.add(u.UpdateID) {
				a.handleUpdate(u)
			}
		case claim == cluster.Busy:
			// Another replica is answering it: let Telegram retry later, in
			// case that replica dies before it finishes.
			w.Header().Set("Retry-After", "5")
			http.Error(w, "being handled", http.StatusServiceUnavailable)
			return
		case claim == cluster.Mine:
			a.seen.add(u.UpdateID)
			stop := a.cfg.Cluster.Hold("tg-update", id, updateClaimLease)
			a.handle(u, u.UpdateID)
			stop()
			fctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			if err := a.cfg.Cluster.Finish(fctx, "tg-update", id, updateDoneTTL); err != nil {
				a.log.Warn("cannot mark an update handled", "update_id", u.UpdateID, "err", err)
			}
			cancel()
		}
		w.WriteHeader(http.StatusOK)
	})
}
