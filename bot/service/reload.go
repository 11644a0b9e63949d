package service

// Hot reload of the knowledge folder: `impbot serve` watches it (and its
// language folders), and on a change (debounced) or SIGHUP validates it like
// `kb check`, builds a new index off to the side, hands the new knowledge to
// the OnReload functions and swaps the index into the router. A broken edit
// keeps the previous knowledge serving; its problems are logged as
// file:line: message and reported by /readyz. Old indexes are closed once
// the requests that may use them have finished.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/impbot/impbot/bot"
	"github.com/impbot/impbot/index"
	"github.com/impbot/impbot/knowledge"
)

// Timings of the watcher.
const (
	reloadDebounce  = 300 * time.Millisecond
	retireEvery     = 250 * time.Millisecond
	resyncEvery     = 10 * time.Second
	shutdownRetire  = 5 * time.Second
	maxReadyzProbls = 10
)

// reloadResult is the outcome of one reload attempt.
type reloadResult struct {
	At       time.Time
	Reason   string
	Err      error
	Problems []string
	Articles int
	Took     time.Duration
}

// knowledgeReady is the /readyz check: fine until a reload is rejected, then
// a warning (the previous knowledge still serves) with the problems.
func (st *opsState) knowledgeReady() error {
	res := st.last.Load()
	if res == nil || res.Err == nil {
		return nil
	}
	probs := res.Problems
	more := ""
	if len(probs) > maxReadyzProbls {
		more = fmt.Sprintf("; and %d more", len(probs)-maxReadyzProbls)
		probs = probs[:maxReadyzProbls]
	}
	return readinessWarning{fmt.Errorf("reload at %s rejected, still serving the previous knowledge: %s%s",
		res.At.UTC().Format(time.RFC3339), strings.Join(probs, "; "), more)}
}

// reload loads, validates and swaps in the knowledge folder. It returns the
// error that made it keep the previous knowledge.
func (st *opsState) reload(reason string) error {
	return st.reloadCtx(context.Background(), reason)
}

// errReloadTimeout means a reload passed knowledge.reload_timeout.
var errReloadTimeout = errors.New("reload took longer than knowledge.reload_timeout")

// reloadCtx is reload bounded by knowledge.reload_timeout and ctx: past
// either, the previous knowledge keeps serving and the reload, if it ever
// finishes, is discarded. While an abandoned reload still runs, new ones
// are refused (so a folder that blocks reads cannot pile them up).
func (st *opsState) reloadCtx(ctx context.Context, reason string) error {
	st.reloadMu.Lock()
	defer st.reloadMu.Unlock()
	a := st.app
	dir := a.Cfg.Knowledge.Dir
	res := &reloadResult{At: time.Now(), Reason: reason}
	limit := time.Duration(a.Cfg.Knowledge.ReloadTimeout)
	if limit <= 0 {
		limit = 2 * time.Minute
	}
	var err error
	if n := st.loading.Load(); n > 0 {
		err = fmt.Errorf("a previous reload is still running past its time limit")
		res.Problems = []string{dir + ": " + err.Error() + " (a file that cannot be read? a stalled disk?)"}
	} else {
		err = st.rebuildWithin(ctx, limit, dir, a.Cfg.KnowledgeLimits(), res)
	}
	res.Took = time.Since(res.At)
	res.Err = err
	st.last.Store(res)
	st.metrics.Reload(err, res.Articles)
	if err != nil {
		for _, p := range res.Problems {
			a.Log.Error("knowledge reload rejected", "problem", p)
		}
		a.Log.Error("knowledge reload rejected: still serving the previous knowledge",
			"dir", dir, "reason", reason, "problems", len(res.Problems))
		return err
	}
	a.Log.Info("knowledge reloaded", "dir", dir, "reason", reason, "articles", res.Articles,
		"ms", res.Took.Milliseconds())
	return nil
}

// rebuildWithin runs rebuild in a goroutine and waits for it up to limit.
func (st *opsState) rebuildWithin(ctx context.Context, limit time.Duration, dir string, lim knowledge.Limits, res *reloadResult) error {
	rctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	type outcome struct {
		res reloadResult
		err error
	}
	done := make(chan outcome, 1)
	st.loading.Add(1)
	go func() {
		defer st.loading.Add(-1)
		var r reloadResult
		err := st.rebuild(rctx, dir, lim, &r)
		done <- outcome{r, err}
	}()
	var o outcome
	select {
	case o = <-done:
	case <-rctx.Done():
		// The rebuild checks rctx under swapMu before applying anything:
		// once we hold it, it either has applied (and its outcome is on
		// the way) or never will.
		st.swapMu.Lock()
		select {
		case o = <-done:
		default:
			o.err = errReloadTimeout
			if ctx.Err() != nil {
				o.err = ctx.Err()
			}
			o.res.Problems = []string{fmt.Sprintf("%s: %v (%v)", dir, o.err, limit)}
		}
		st.swapMu.Unlock()
		if o.err == nil {
			break
		}
	}
	res.Problems, res.Articles = o.res.Problems, o.res.Articles
	return o.err
}

func (st *opsState) rebuild(ctx context.Context, dir string, lim knowledge.Limits, res *reloadResult) error {
	a := st.app
	if f := st.beforeLoad.Load(); f != nil {
		(*f)()
	}
	b, probs := checkKnowledgeLimits(dir, lim)
	if len(probs) > 0 {
		for _, p := range probs {
			res.Problems = append(res.Problems, p.String())
		}
		return fmt.Errorf("knowledge folder %s: %d problem(s)", dir, len(probs))
	}
	if b == nil {
		res.Problems = []string{dir + ": no knowledge loaded"}
		return errors.New(res.Problems[0])
	}
	logSkipped(a.Log, b)
	ix, err := buildIndex(b, a.Log)
	if err != nil {
		res.Problems = []string{fmt.Sprintf("%s: %v", dir, err)}
		return err
	}
	st.swapMu.Lock()
	defer st.swapMu.Unlock()
	if err := ctx.Err(); err != nil {
		ix.Close()
		return err
	}
	for _, f := range a.Reloaders() {
		if err := f(b); err != nil {
			ix.Close()
			res.Problems = strings.Split(err.Error(), "\n")
			return fmt.Errorf("apply reloaded knowledge: %w", err)
		}
	}
	st.retire.retire(a.Router.Swap(ix))
	st.setKnowledgeHash(b)
	res.Articles = b.Count()
	return nil
}

// watchKnowledge is the serve task that watches the knowledge folder.
func watchKnowledge(ctx context.Context, a *App) error {
	st := opsOf(a)
	if st == nil {
		return nil
	}
	dir := a.Cfg.Knowledge.Dir
	// Take SIGHUP in every case: its default action would stop the bot.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	if dir == "" {
		close(st.watching)
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-hup:
				a.Log.Info("SIGHUP: the knowledge is embedded in the binary (no knowledge.dir): nothing to reload")
			}
		}
	}

	var events <-chan fsnotify.Event
	var werrs <-chan error
	w, err := fsnotify.NewWatcher()
	if err != nil {
		a.Log.Warn("cannot watch the knowledge folder; reload it with SIGHUP", "dir", dir, "err", err)
	} else {
		defer w.Close()
		if _, err := watchDirs(w, dir); err != nil {
			a.Log.Warn("cannot watch the knowledge folder; reload it with SIGHUP", "dir", dir, "err", err)
		}
		events, werrs = w.Events, w.Errors
	}
	close(st.watching)
	a.Log.Info("watching the knowledge folder", "dir", dir)

	debounce := time.NewTimer(math.MaxInt64)
	debounce.Stop()
	defer debounce.Stop()
	retireTick := time.NewTicker(retireEvery)
	defer retireTick.Stop()
	resync := time.NewTicker(resyncEvery)
	defer resync.Stop()
	// Reloads run off this loop (which keeps taking events, signals and
	// shutdown), one at a time; a request during one runs after it.
	reloaded := make(chan struct{}, 1)
	reloading, again := false, ""
	reload := func(reason string) {
		if reloading {
			again = reason
			return
		}
		reloading = true
		go func() {
			_ = st.reloadCtx(ctx, reason) // logged and reported by /readyz
			reloaded <- struct{}{}
		}()
	}
	for {
		select {
		case <-ctx.Done():
			// A reload in progress is not waited for: it sees ctx and
			// applies nothing.
			st.retire.drain(shutdownRetire, a)
			return nil
		case <-reloaded:
			reloading = false
			if w != nil {
				// A folder new since the last watch (a new language) may
				// already hold files written before it was watched, which
				// no event announces: read the knowledge again.
				if added, err := watchDirs(w, dir); err != nil {
					a.Log.Warn("cannot watch the knowledge folder", "dir", dir, "err", err)
				} else if added && again == "" {
					debounce.Reset(reloadDebounce)
				}
			}
			if again != "" {
				r := again
				again = ""
				reload(r)
			}
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if ev.Op == fsnotify.Chmod {
				continue
			}
			debounce.Reset(reloadDebounce)
		case err, ok := <-werrs:
			if !ok {
				werrs = nil
				continue
			}
			a.Log.Warn("knowledge watcher", "err", err)
		case <-debounce.C:
			reload("change")
		case <-hup:
			debounce.Stop()
			reload("SIGHUP")
		case <-resync.C:
			// The folder may have been replaced (a deploy, a ConfigMap):
			// watch it again and reload if it had been lost.
			if w != nil {
				if added, err := watchDirs(w, dir); err == nil && added {
					debounce.Reset(reloadDebounce)
				}
			}
		case <-retireTick.C:
			st.retire.closeDue(time.Now(), a)
		}
	}
}

// watchDirs watches dir and its subfolders (the languages), following
// symbolic links. added reports that dir or one of its subfolders was not
// watched before.
func watchDirs(w *fsnotify.Watcher, dir string) (added bool, err error) {
	watched := w.WatchList()
	isNew := func(p string) bool {
		abs, err := filepath.Abs(p)
		return err == nil && !slices.Contains(watched, abs) && !slices.Contains(watched, p)
	}
	if _, err := filepath.Abs(dir); err != nil {
		return false, err
	}
	added = isNew(dir)
	if err := w.Add(dir); err != nil {
		return false, fmt.Errorf("watch %s: %w", dir, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return added, fmt.Errorf("read %s: %w", dir, err)
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if strings.HasPrefix(e.Name(), ".") && e.Name() != "..data" {
			continue
		}
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			added = added || isNew(p)
			if err := w.Add(p); err != nil {
				return added, fmt.Errorf("watch %s: %w", p, err)
			}
		}
	}
	return added, nil
}

// retirer closes replaced indexes once no request that may still use them
// is running. Each request is counted under the epoch in which it started;
// a swap ends the epoch, and the old index is closed when every request of
// its epoch (and earlier) has finished and a short grace period has passed
// (for code that reads the index outside the handler chain).
type retirer struct {
	mu      sync.Mutex
	epoch   uint64
	active  map[uint64]int
	pending []retiring
	grace   time.Duration
	closed  int // indexes closed (for tests)
}

type retiring struct {
	ix    *index.Index
	epoch uint64
	at    time.Time
}

func newRetirer(grace time.Duration) *retirer {
	return &retirer{active: map[uint64]int{}, grace: grace}
}

func (r *retirer) middleware() bot.Middleware {
	return func(next bot.Handler) bot.Handler {
		return bot.HandlerFunc(func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
			r.mu.Lock()
			e := r.epoch
			r.active[e]++
			r.mu.Unlock()
			defer func() {
				r.mu.Lock()
				if r.active[e]--; r.active[e] == 0 {
					delete(r.active, e)
				}
				r.mu.Unlock()
			}()
			return next.Handle(ctx, req)
		})
	}
}

// retire schedules ix (just swapped out) for closing.
func (r *retirer) retire(ix *index.Index) {
	if ix == nil {
		return
	}
	r.mu.Lock()
	r.pending = append(r.pending, retiring{ix: ix, epoch: r.epoch, at: time.Now()})
	r.epoch++
	r.mu.Unlock()
}

// due removes and returns the indexes that can be closed at now (all of
// them when force).
func (r *retirer) due(now time.Time, force bool) []*index.Index {
	r.mu.Lock()
	defer r.mu.Unlock()
	oldest := uint64(math.MaxUint64)
	for e := range r.active {
		oldest = min(oldest, e)
	}
	var out []*index.Index
	keep := r.pending[:0]
	for _, p := range r.pending {
		if force || (p.epoch < oldest && now.Sub(p.at) >= r.grace) {
			out = append(out, p.ix)
		} else {
			keep = append(keep, p)
		}
	}
	r.pending = keep
	r.closed += len(out)
	return out
}

func (r *retirer) closeDue(now time.Time, a *App) {
	for _, ix := range r.due(now, false) {
		if err := ix.Close(); err != nil {
			a.Log.Warn("close replaced index", "err", err)
		}
	}
}

func (r *retirer) pendingCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.pending)
}

// drain closes the replaced indexes at shutdown: it waits (up to max) for
// the requests still using them, then closes the rest anyway.
func (r *retirer) drain(max time.Duration, a *App) {
	deadline := time.Now().Add(max)
	for r.pendingCount() > 0 && time.Now().Before(deadline) {
		r.closeDue(time.Now().Add(r.grace), a)
		if r.pendingCount() > 0 {
			time.Sleep(20 * time.Millisecond)
		}
	}
	for _, ix := range r.due(time.Now(), true) {
		if err := ix.Close(); err != nil {
			a.Log.Warn("close replaced index", "err", err)
		}
	}
}
