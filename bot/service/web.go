package service

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/impbot/impbot/bot/web"
)

func init() {
	adapterFactories = append(adapterFactories, newWebAdapter)
	httpRoutes = append(httpRoutes, webRoutes)
}

// webServers finds the web chat of an App (for its routes on http.addr).
var webServers sync.Map // *App → *webAdapter

type webAdapter struct {
	*web.Server
	shared bool // served on http.addr's mux
}

// telegramStaff forwards the widget's "Talk to a person" form to the
// Telegram staff chat.
type telegramStaff struct{ t *telegramAdapter }

func (s telegramStaff) Forward(_ context.Context, tk web.Ticket) error {
	return s.t.ForwardExternal(web.Platform, tk.Session, tk.Lang, tk.Name, tk.Email, tk.Question)
}

// newWebAdapter builds the web chat from the web section of the config (nil
// when web.enabled is false). With Telegram's staff chat configured, the
// widget's handoff form goes there and staff answers come back to the
// widget.
func newWebAdapter(a *App) (Adapter, error) {
	c := a.Cfg.Web
	if !c.Enabled {
		return nil, nil
	}
	wc := web.Config{
		AllowedOrigins: c.AllowedOrigins,
		Title:          c.Title,
		Greeting:       c.Greeting,
		ThemeColor:     c.ThemeColor,
		Handler:        a.Handler,
		Stats:          a.Stats,
		Log:            a.Log,
		Contact:        contactText(a.Cfg),
	}
	// The widget's own per-session limit bites just before the router's
	// (rate_limit), so an over-eager visitor gets "slow down" and the
	// message is retried, never answered with the notice.
	if a.Cfg.RateLimit.PerSecond > 0 {
		wc.PerSession, wc.PerSessionBurst = a.Cfg.RateLimit.PerSecond*0.9, a.Cfg.RateLimit.Burst
	}
	db, err := a.DB()
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	wc.DB = db
	// With several replicas the conversations are in Redis: a visitor's
	// next request may land on any replica.
	if wc.Cluster, err = a.Redis(); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	shared := c.Addr == "" || c.Addr == a.Cfg.HTTP.Addr
	if !shared {
		wc.Addr = c.Addr
	}
	var tg *telegramAdapter
	if v, ok := telegramAdapters.Load(a); ok && a.Cfg.Telegram.StaffChatID != 0 {
		tg = v.(*telegramAdapter)
		wc.Staff = telegramStaff{tg}
	}
	s, err := web.New(wc)
	if err != nil {
		return nil, err
	}
	if tg != nil {
		tg.SetExternalSink(web.Platform, s.StaffReply)
	}
	ad := &webAdapter{Server: s, shared: shared}
	webServers.Store(a, ad)
	a.OnClose(func() error {
		webServers.Delete(a)
		return nil
	})
	where := c.Addr
	if shared {
		where = a.Cfg.HTTP.Addr
	}
	a.Log.Info("web chat enabled", "addr", where, "demo", fmt.Sprintf("http://%s/", where))
	return ad, nil
}

// webRoutes mounts the web chat on http.addr when it shares that server.
func webRoutes(a *App, mux *http.ServeMux) {
	v, ok := webServers.Load(a)
	if !ok || !v.(*webAdapter).shared {
		return
	}
	v.(*webAdapter).Mount(mux)
}

// contactText is organization.contact, with the name when there is one.
func contactText(c Config) string {
	if c.Organization.Contact == "" {
		return ""
	}
	if c.Organization.Name != "" {
		return c.Organization.Name + " (" + c.Organization.Contact + ")"
	}
	return c.Organization.Contact
}
