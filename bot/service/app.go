package service

import (
	"fmt"
	"log/slog"
	"sync"

	"go.etcd.io/bbolt"

	"github.com/impbot/impbot/bot"
	"github.com/impbot/impbot/bot/session"
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
	// Middleware added by hooks, applied inside the standard chain (just
	// around the router).
	Middleware []bot.Middleware
	// Stats receives adapter counts; hooks may replace it (metrics).
	Stats bot.Stats
	// Readiness holds the checks reported by /readyz.
	Readiness readiness
	closers   []func() error
	reloaders []func(b *knowledge.Base) error

	dbOnce sync.Once
	db     *bbolt.DB
	dbErr  error
}

// appHooks extend the app as it is built (dialogue, stores, observers).
// Files register theirs in init; they run in registration order, after the
// router exists and before the middleware chain is assembled.
var appHooks []func(a *App) error

// OnReload registers a function that takes new, validated knowledge after a
// hot reload (e.g. new eligibility rules). An error keeps the old knowledge.
func (a *App) OnReload(f func(b *knowledge.Base) error) { a.reloaders = append(a.reloaders, f) }

// OnClose registers a function to run when the app closes (in reverse order).
func (a *App) OnClose(f func() error) { a.closers = append(a.closers, f) }

// DB opens (once) the embedded bbolt store at sessions.path, shared by the
// session store and the other records. It returns nil, nil when the path is
// empty (terminal use without a config file) or the backend is redis
// (several processes cannot share one bbolt file): keep things in memory
// or in Redis then.
func (a *App) DB() (*bbolt.DB, error) {
	a.dbOnce.Do(func() {
		p := a.Cfg.Sessions.Path
		if p == "" || a.Cfg.Sessions.Backend == "redis" {
			return
		}
		// A damaged file is moved aside (or refused, as configured)
		// instead of crashing the bot at every start.
		a.db, a.dbErr = session.OpenFile(p, session.OpenOptions{OnCorrupt: a.Cfg.Sessions.OnCorrupt, Log: a.Log})
		if a.dbErr != nil {
			return
		}
		a.OnClose(a.db.Close)
	})
	return a.db, a.dbErr
}

// loadKnowledge loads the configured folder, or the embedded knowledge,
// within the default limits.
func loadKnowledge(dir string) (*knowledge.Base, error) {
	return loadKnowledgeLimits(dir, knowledge.DefaultLimits(), nil)
}

// loadKnowledgeLimits loads the folder within lim; entries that are not
// regular files are skipped and logged to log (when not nil).
func loadKnowledgeLimits(dir string, lim knowledge.Limits, log *slog.Logger) (*knowledge.Base, error) {
	if dir == "" {
		return knowledge.LoadShipped()
	}
	b, probs := knowledge.LoadDirLimits(dir, lim)
	if len(probs) > 0 {
		return nil, fmt.Errorf("knowledge folder %s has %d problem(s):\n%w", dir, len(probs), probs)
	}
	logSkipped(log, b)
	return b, nil
}

// logSkipped warns about the folder entries that were not read.
func logSkipped(log *slog.Logger, b *knowledge.Base) {
	if log == nil || b == nil {
		return
	}
	for _, p := range b.Skipped {
		log.Warn("knowledge folder: entry skipped (only regular files are read)", "problem", p.String())
	}
}

// newApp builds the bot from the config.
func newApp(cfg Config, log *slog.Logger) (*App, error) {
	b, ix, shared, err := knowledgeIndex(cfg.Knowledge.Dir, cfg.KnowledgeLimits(), log)
	if err != nil {
		return nil, err
	}
	r := bot.NewRouter(ix, bot.Options{
		OrgName: cfg.Organization.Name,
		Contact: cfg.Organization.Contact,
		Log:     log,
	})
	a := &App{Cfg: cfg, Log: log, Base: b, Router: r, Stats: bot.NopStats{}}
	a.closers = append(a.closers, func() error {
		if cur := r.Index(); cur != nil && !(shared && cur == ix) {
			return cur.Close()
		}
		return nil
	})
	for _, h := range appHooks {
		if err := h(a); err != nil {
			a.Close()
			return nil, err
		}
	}
	chain := []bot.Middleware{
		bot.ErrorReply(log),
		bot.Logging(log, cfg.Log.MessageText),
		bot.RateLimit(cfg.RateLimit.PerSecond, cfg.RateLimit.Burst),
		bot.Recover(),
	}
	a.Handler = bot.Chain(r, append(chain, a.Middleware...)...)
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

// Reloaders returns the functions registered with OnReload.
func (a *App) Reloaders() []func(b *knowledge.Base) error { return a.reloaders }
