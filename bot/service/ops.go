package service

// Operations: metrics, the unanswered-question and feedback recorder, and
// the loopback admin route that `impbot kb gaps` uses while serve holds the
// store. Hot reload lives in reload.go, the gaps report in gaps.go.

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/impbot/impbot/bot"
	"github.com/impbot/impbot/bot/insights"
	"github.com/impbot/impbot/bot/metrics"
)

func init() {
	appHooks = append(appHooks, setupOps)
	httpRoutes = append(httpRoutes, opsRoutes)
	serveTasks = append(serveTasks, watchKnowledge)
}

// opsState is what the operations features keep for one App.
type opsState struct {
	app      *App
	metrics  *metrics.Metrics
	insights *insights.Store
	retire   *retirer

	hash      atomic.Pointer[string]
	hashGauge *prometheus.GaugeVec

	reloadMu sync.Mutex
	last     atomic.Pointer[reloadResult]
	// swapMu makes "the time limit passed" and "the new knowledge is
	// applied" exclusive: a reload past its limit never applies.
	swapMu sync.Mutex
	// loading counts rebuilds still running, including those abandoned
	// past their time limit (stuck reading, for instance).
	loading atomic.Int32
	// beforeLoad, if set, runs at the start of every rebuild (tests: a
	// load that hangs).
	beforeLoad atomic.Pointer[func()]
	// watching is closed once the knowledge watcher runs (for tests).
	watching chan struct{}
}

var opsStates sync.Map // *App → *opsState

// opsOf returns the operations state of the app, or nil.
func opsOf(a *App) *opsState {
	v, ok := opsStates.Load(a)
	if !ok {
		return nil
	}
	return v.(*opsState)
}

// retentionDays is unanswered.retention_days: 30 when unset, at most a
// century.
func retentionDays(cfg Config) int {
	if cfg.Unanswered.RetentionDays == nil {
		return 30
	}
	return min(*cfg.Unanswered.RetentionDays, 36500)
}

// setupOps plugs metrics and the insights store into the app.
func setupOps(a *App) error {
	st := &opsState{app: a, metrics: metrics.New(), retire: newRetirer(time.Second), watching: make(chan struct{})}
	db, err := a.DB()
	if err != nil {
		return fmt.Errorf("unanswered questions: %w", err)
	}
	r, err := a.Redis()
	if err != nil {
		return fmt.Errorf("sessions.redis: %w", err)
	}
	iopt := insights.Options{
		Retention: time.Duration(retentionDays(a.Cfg)) * 24 * time.Hour,
		// Answers just above the answering threshold are shown to staff too.
		LowConfidence: lowConfidence,
		Log:           a.Log,
	}
	var store *insights.Store
	if r != nil {
		// Every replica records into the same Redis: the report of any
		// of them shows the gaps of all.
		store, err = insights.OpenRedis(r, iopt)
	} else {
		store, err = insights.Open(db, iopt)
	}
	if err != nil {
		return err
	}
	st.insights = store
	a.OnClose(func() error {
		opsStates.Delete(a)
		return store.Close()
	})
	st.metrics.Registry().MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Namespace: metrics.Namespace, Name: "unanswered_dropped_total",
		Help: "Unanswered questions and feedback not recorded because the store writer was behind (or Redis was unreachable).",
	}, func() float64 { return float64(store.Dropped()) }))
	st.metrics.SetArticles(a.Base.Count())
	st.hashGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: metrics.Namespace, Name: "knowledge_info",
		Help: "1 for the hash of the knowledge this replica serves (replicas out of step differ).",
	}, []string{"hash"})
	st.metrics.Registry().MustRegister(st.hashGauge)
	st.setKnowledgeHash(a.Base)
	if r != nil {
		registerRedisMetrics(st.metrics, r)
	}

	a.Stats = st.metrics
	a.Router.SetObserver(observers{store, st.metrics})
	a.Middleware = append(a.Middleware, st.metrics.Middleware(), st.retire.middleware())
	a.Readiness.add("knowledge", st.knowledgeReady)
	opsStates.Store(a, st)
	return nil
}

// observers tells several observers.
type observers []bot.Observer

func (obs observers) Question(ev bot.QuestionEvent) {
	for _, o := range obs {
		o.Question(ev)
	}
}

func (obs observers) Feedback(ev bot.FeedbackEvent) {
	for _, o := range obs {
		o.Feedback(ev)
	}
}

// adminTokenPath is where serve writes the token that authorises
// `impbot kb gaps` on the admin route: next to the store, readable only by
// its owner. Whoever can read the store can read the token.
func adminTokenPath(storePath string) string { return storePath + ".admin-token" }

// opsRoutes serves /metrics and, when there is a store file, /admin/gaps.
func opsRoutes(a *App, mux *http.ServeMux) {
	st := opsOf(a)
	if st == nil {
		return
	}
	mux.Handle("GET /metrics", st.metrics.Handler())
	if a.Cfg.Sessions.Path == "" {
		return
	}
	path := adminTokenPath(a.Cfg.Sessions.Path)
	tok, err := writeAdminToken(path)
	if err != nil {
		a.Log.Warn("kb gaps cannot reach this server: writing the admin token failed", "err", err)
		return
	}
	a.OnClose(func() error {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove admin token: %w", err)
		}
		return nil
	})
	mux.HandleFunc("GET /admin/gaps", st.gapsHandler(tok))
}

func writeAdminToken(path string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	tok := hex.EncodeToString(b)
	// With the redis backend no store file creates the folder.
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("create folder for %s: %w", path, err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(tok+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return tok, nil
}

// gapsHandler serves the gaps report as JSON to loopback clients that
// present the admin token (`impbot kb gaps` does).
func (st *opsState) gapsHandler(tok string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "only from this machine"})
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(tok)) != 1 {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "missing or wrong admin token"})
			return
		}
		days, err := intParam(r, "days", defaultGapDays(st.app.Cfg), 1, 3650)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		top, err := intParam(r, "top", 20, 1, 1000)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		rep, err := st.insights.Report(r.Context(), insights.ReportOptions{
			Since: time.Now().Add(-time.Duration(days) * 24 * time.Hour), Top: top,
		})
		if err != nil {
			st.app.Log.Error("gaps report failed", "err", err)
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "report failed"})
			return
		}
		writeJSON(w, http.StatusOK, rep)
	}
}

func intParam(r *http.Request, name string, def, lo, hi int) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s must be a number from %d to %d", name, lo, hi)
	}
	return n, nil
}

// defaultGapDays is the report period when none is given: the retention.
func defaultGapDays(cfg Config) int {
	if d := retentionDays(cfg); d > 0 {
		return d
	}
	return 30
}
