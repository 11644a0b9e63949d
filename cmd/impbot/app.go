package main

import (
	"fmt"
	"log/slog"

	"github.com/impbot/impbot/bot"
	"github.com/impbot/impbot/index"
	"github.com/impbot/impbot/knowledge"
)

// App is the assembled bot: knowledge, index, router and middleware, shared
// by every adapter.
type App struct {
	Cfg     Config
	Log     *slog.Logger
	Base    *knowledge.Base
	Router  *bot.Router
	Handler bot.Handler
	closers []func() error
}

// loadKnowledge loads the configured folder, or the embedded knowledge.
func loadKnowledge(dir string) (*knowledge.Base, error) {
	if dir == "" {
		return knowledge.LoadShipped()
	}
	b, probs := knowledge.LoadDir(dir)
	if len(probs) > 0 {
		return nil, fmt.Errorf("knowledge folder %s has %d problem(s):\n%w", dir, len(probs), probs)
	}
	return b, nil
}

// newApp builds the bot from the config.
func newApp(cfg Config, log *slog.Logger) (*App, error) {
	b, err := loadKnowledge(cfg.Knowledge.Dir)
	if err != nil {
		return nil, err
	}
	ix, err := index.Build(b)
	if err != nil {
		return nil, fmt.Errorf("build index: %w", err)
	}
	r := bot.NewRouter(ix, bot.Options{
		OrgName: cfg.Organization.Name,
		Contact: cfg.Organization.Contact,
		Log:     log,
	})
	a := &App{Cfg: cfg, Log: log, Base: b, Router: r}
	a.closers = append(a.closers, func() error {
		if ix := r.Index(); ix != nil {
			return ix.Close()
		}
		return nil
	})
	a.Handler = bot.Chain(r,
		bot.ErrorReply(log),
		bot.Logging(log, cfg.Log.MessageText),
		bot.RateLimit(cfg.RateLimit.PerSecond, cfg.RateLimit.Burst),
		bot.Recover(),
	)
	return a, nil
}

// Close releases what the app holds, in reverse order.
func (a *App) Close() error {
	var first error
	for i := len(a.closers) - 1; i >= 0; i-- {
		if err := a.closers[i](); err != nil && first == nil {
			first = err
		}
	}
	return first
}
