package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// Adapter is a platform adapter run by `impbot serve`.
type Adapter interface {
	// Name is the platform name ("telegram", "discord").
	Name() string
	// Run serves until ctx is cancelled. Then it stops taking updates,
	// finishes the replies in flight and returns nil. An error return means
	// the adapter could not start or failed for good.
	Run(ctx context.Context) error
	// Ready returns nil when the adapter is connected (for /readyz).
	Ready() error
}

// adapterFactories build the platform adapters from the config; a factory
// returns nil, nil when its platform is disabled. Files register in init.
var adapterFactories []func(a *App) (Adapter, error)

// httpRoutes add handlers to the HTTP server of `impbot serve` (metrics,
// webhooks). Files register in init.
var httpRoutes []func(a *App, mux *http.ServeMux)

// serveTasks run in the background while serving (e.g. the knowledge
// watcher) until ctx is cancelled. Files register in init.
var serveTasks []func(ctx context.Context, a *App) error

// readiness checks reported by /readyz, beyond the adapters'. Files add to
// App.Readiness in their app hooks.
type readiness struct {
	mu     sync.Mutex
	checks map[string]func() error
}

func (r *readiness) add(name string, f func() error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.checks == nil {
		r.checks = map[string]func() error{}
	}
	r.checks[name] = f
}

// readinessWarning wraps a readiness finding that /readyz reports (as
// "warning: …") while staying ready: e.g. a rejected knowledge reload, with
// the previous knowledge still serving.
type readinessWarning struct{ error }

func (r *readiness) check() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]string{}
	for name, f := range r.checks {
		var warn readinessWarning
		if err := f(); err != nil && errors.As(err, &warn) {
			out[name] = "warning: " + err.Error()
		} else if err != nil {
			out[name] = err.Error()
		} else {
			out[name] = "ok"
		}
	}
	return out
}

// ServeFile reads the config file at cfgPath (secrets from the environment)
// and serves until ctx is cancelled, logging to stderr: `impbot serve`.
func ServeFile(ctx context.Context, cfgPath string, stderr io.Writer) error {
	cfg, err := LoadConfig(cfgPath, os.LookupEnv)
	if err != nil {
		return err
	}
	return serve(ctx, cfg, newLogger(stderr, cfg.Log.Level, cfg.Log.Format), nil)
}

// DemoConfig is what `impbot serve` runs without --config: the web chat and
// its demo page on 127.0.0.1:8080, from the embedded knowledge, with
// Telegram and Discord off and everything kept in memory (no files).
func DemoConfig() Config {
	c := DefaultConfig()
	c.Sessions.Path = ""
	c.Web.Enabled = true
	return c
}

// ServeDemo runs DemoConfig: a one-command demo of the web chat.
func ServeDemo(ctx context.Context, stderr io.Writer) error {
	cfg := DemoConfig()
	log := newLogger(stderr, cfg.Log.Level, cfg.Log.Format)
	log.Info("no --config: demo mode, the web chat only, nothing written to disk", "open", "http://"+cfg.HTTP.Addr+"/")
	return serve(ctx, cfg, log, nil)
}

// serve runs the adapters and the HTTP server until ctx is cancelled. ready,
// if not nil, receives the HTTP address once listening (for tests).
func serve(ctx context.Context, cfg Config, log *slog.Logger, ready chan<- string) error {
	app, err := newApp(cfg, log)
	if err != nil {
		return err
	}
	defer app.Close()

	var adapters []Adapter
	for _, f := range adapterFactories {
		ad, err := f(app)
		if err != nil {
			return err
		}
		if ad != nil {
			adapters = append(adapters, ad)
			app.Readiness.add(ad.Name(), ad.Ready)
		}
	}
	for _, sec := range cfg.autoOff {
		log.Info(sec+" is off: "+sec+".enabled is auto and "+sec+".token is empty (set the token's environment variable to turn it on)", "platform", sec)
	}
	if len(adapters) == 0 {
		log.Info("no platform adapter enabled: serving HTTP only")
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		res := app.Readiness.check()
		code := http.StatusOK
		for _, v := range res {
			if v != "ok" && !strings.HasPrefix(v, "warning: ") {
				code = http.StatusServiceUnavailable
			}
		}
		if st := opsOf(app); st != nil {
			res["knowledge_hash"] = st.KnowledgeHash()
		}
		writeJSON(w, code, res)
	})
	for _, f := range httpRoutes {
		f(app, mux)
	}
	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("http.addr %s: %w", cfg.HTTP.Addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	httpErr := make(chan error, 1)
	go func() { httpErr <- srv.Serve(ln) }()
	log.Info("serving", "http", ln.Addr().String(), "adapters", len(adapters), "articles", app.Base.Count())
	if ready != nil {
		ready <- ln.Addr().String()
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, len(adapters)+len(serveTasks))
	for _, ad := range adapters {
		wg.Go(func() {
			if err := ad.Run(runCtx); err != nil {
				errs <- fmt.Errorf("%s: %w", ad.Name(), err)
			}
		})
	}
	for _, t := range serveTasks {
		wg.Go(func() {
			if err := t(runCtx, app); err != nil && !errors.Is(err, context.Canceled) {
				errs <- err
			}
		})
	}
	var failure error
	select {
	case <-ctx.Done():
		log.Info("shutting down: finishing replies in flight")
	case failure = <-errs:
		log.Error("stopping", "err", failure)
	case err := <-httpErr:
		failure = fmt.Errorf("http server: %w", err)
	}
	cancel()
	wg.Wait()
	shCtx, shCancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer shCancel()
	_ = srv.Shutdown(shCtx)
	log.Info("stopped")
	return failure
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
