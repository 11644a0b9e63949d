package service

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sync"
	"time"

	"github.com/impbot/impbot/bot/telegram"
)

func init() {
	adapterFactories = append(adapterFactories, newTelegramAdapter)
	httpRoutes = append(httpRoutes, telegramRoutes)
}

// telegramAdapters finds the adapter of an App (for its webhook route).
var telegramAdapters sync.Map // *App → *telegramAdapter

// telegramAdapter adds the config keys to the adapter's errors.
type telegramAdapter struct {
	*telegram.Adapter
	webhookPath string // "" in polling mode
}

func (t *telegramAdapter) Run(ctx context.Context) error {
	err := t.Adapter.Run(ctx)
	if errors.Is(err, telegram.ErrUnauthorized) {
		return fmt.Errorf("%w; check telegram.token (the example config reads it from TELEGRAM_BOT_TOKEN)", err)
	}
	return err
}

var webhookPathRE = regexp.MustCompile(`^/[A-Za-z0-9/_.~-]*$`)

// newTelegramAdapter builds the Telegram adapter from the telegram section
// of the config (nil when telegram.enabled is false). It registers the
// adapter as a Forgetter so /forget deletes pending handoffs.
func newTelegramAdapter(a *App) (Adapter, error) {
	c := a.Cfg.Telegram
	if !c.Enabled {
		return nil, nil
	}
	db, err := a.DB()
	if err != nil {
		return nil, fmt.Errorf("telegram: %w", err)
	}
	shared, err := a.Redis()
	if err != nil {
		return nil, fmt.Errorf("telegram: %w", err)
	}
	tc := telegram.Config{
		Cluster:     shared,
		Token:       c.Token,
		APIURL:      c.APIURL,
		Handler:     a.Handler,
		Stats:       a.Stats,
		Log:         a.Log,
		DB:          db,
		StaffChatID: c.StaffChatID,
		Teacher:     teacher{a},
		Tuning: telegram.Tuning{
			GlobalLimit: telegram.Window{N: max(1, int(c.SendRate)), Per: time.Second},
		},
	}
	ad := &telegramAdapter{}
	if c.Mode == "webhook" {
		u, err := url.Parse(c.Webhook.URL)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("telegram.webhook.url: %q is not a URL", c.Webhook.URL)
		}
		ad.webhookPath = u.EscapedPath()
		if ad.webhookPath == "" {
			ad.webhookPath = "/"
		}
		if !webhookPathRE.MatchString(ad.webhookPath) {
			return nil, fmt.Errorf("telegram.webhook.url: path %q may only use letters, digits and / _ . ~ -", ad.webhookPath)
		}
		tc.Webhook = &telegram.WebhookConfig{URL: c.Webhook.URL, SecretToken: c.Webhook.SecretToken}
	}
	if ad.Adapter, err = telegram.New(tc); err != nil {
		return nil, err
	}
	a.Router.AddForgetter(ad.Adapter)
	telegramAdapters.Store(a, ad)
	a.OnClose(func() error {
		telegramAdapters.Delete(a)
		return nil
	})
	return ad, nil
}

// telegramRoutes serves the webhook at the path of telegram.webhook.url.
func telegramRoutes(a *App, mux *http.ServeMux) {
	v, ok := telegramAdapters.Load(a)
	if !ok {
		return
	}
	ad := v.(*telegramAdapter)
	if ad.webhookPath == "" {
		return
	}
	pattern := "POST " + ad.webhookPath
	if ad.webhookPath == "/" {
		pattern = "POST /{$}"
	}
	mux.Handle(pattern, ad.WebhookHandler())
}
