package service

// Several replicas: sessions.backend: redis puts the shared state in Redis
// (bot/session.Redis), and the replicas coordinate through it (bot/cluster).
// Redis being down degrades the bot (FAQ answers go on, dialogues pause)
// and shows in /readyz (as a warning: the replica still serves) and the
// metrics; everything recovers by itself.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/impbot/impbot/bot/cluster"
	"github.com/impbot/impbot/bot/metrics"
	"github.com/impbot/impbot/knowledge"
)

func init() {
	serveTasks = append(serveTasks, watchRedis)
}

// redisWatchEvery is how often a serving replica pings Redis.
const redisWatchEvery = time.Second

type redisOnce struct {
	once sync.Once
	r    *cluster.Redis
	err  error
}

var redisConns sync.Map // *App → *redisOnce

// Redis returns the shared store's connection (opened once), or nil, nil
// when sessions.backend is not redis. It does not wait for Redis: a Redis
// that is down at start only degrades the bot until it comes.
func (a *App) Redis() (*cluster.Redis, error) {
	if a.Cfg.Sessions.Backend != "redis" {
		return nil, nil
	}
	v, _ := redisConns.LoadOrStore(a, &redisOnce{})
	ro := v.(*redisOnce)
	ro.once.Do(func() {
		c := a.Cfg.Sessions.Redis
		pw := ""
		if c.PasswordEnv != "" {
			pw = os.Getenv(c.PasswordEnv)
		}
		ro.r, ro.err = cluster.Open(cluster.Options{URL: c.URL, Password: pw, Prefix: c.Prefix, Log: a.Log})
		if ro.err != nil {
			return
		}
		r := ro.r
		a.OnClose(func() error { redisConns.Delete(a); return r.Close() })
		a.Readiness.add("redis", func() error {
			if err := r.Ready(); err != nil {
				return readinessWarning{err}
			}
			return nil
		})
		a.Log.Info("sessions in redis", "redis", r.String())
	})
	return ro.r, ro.err
}

func registerRedisMetrics(m *metrics.Metrics, r *cluster.Redis) {
	m.Registry().MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: metrics.Namespace, Name: "redis_up",
			Help: "1 while the shared Redis answers, 0 while the bot runs degraded without it.",
		}, func() float64 {
			if r.Up() {
				return 1
			}
			return 0
		}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: metrics.Namespace, Name: "redis_errors_total",
			Help: "Redis commands that failed.",
		}, func() float64 { return float64(r.Errors()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: metrics.Namespace, Name: "redis_outages_total",
			Help: "Times Redis became unreachable (the bot degraded until it came back).",
		}, func() float64 { return float64(r.Outages()) }),
	)
}

// watchRedis pings Redis while serving, so /readyz and the metrics follow it
// even when no user writes.
func watchRedis(ctx context.Context, a *App) error {
	r, err := a.Redis()
	if err != nil || r == nil {
		return err
	}
	r.Watch(ctx, redisWatchEvery)
	return nil
}

// knowledgeHash identifies the knowledge's content (articles, synonyms,
// domain words, rules), so an operator sees replicas out of step in /readyz
// and the metrics.
func knowledgeHash(b *knowledge.Base) string {
	data, err := json.Marshal(struct {
		A map[string][]*knowledge.Article
		S map[string][][]string
		D map[string][]string
		F map[string][]byte
	}{b.Articles, b.Synonyms, b.Domain, b.Files})
	if err != nil {
		return fmt.Sprintf("unhashable: %v", err)
	}
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:8])
}

// setKnowledgeHash publishes the hash of the knowledge now serving.
func (st *opsState) setKnowledgeHash(b *knowledge.Base) {
	h := knowledgeHash(b)
	st.hash.Store(&h)
	st.hashGauge.Reset()
	st.hashGauge.WithLabelValues(h).Set(1)
}

// KnowledgeHash is the hash of the knowledge now serving ("" before setup).
func (st *opsState) KnowledgeHash() string {
	if p := st.hash.Load(); p != nil {
		return *p
	}
	return ""
}
