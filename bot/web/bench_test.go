package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/impbot/impbot/bot/cluster"
	"github.com/impbot/impbot/bot/redistest"
	botsession "github.com/impbot/impbot/bot/session"
)

// BenchmarkWebSocketAnswer: one widget asks the real router over a loopback
// WebSocket and waits for each answer (rendering to HTML included). It
// reports the round trip's p50 and p99.
func BenchmarkWebSocketAnswer(b *testing.B) {
	h, _ := testRouter(b)
	s, err := New(Config{Handler: h, PerIP: 1e9, PerIPBurst: 1 << 30, PerSession: 1e9, PerSessionBurst: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()
	defer s.Close()
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/chat/ws", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	var o Out
	if err := c.WriteJSON(In{Type: "hello"}); err != nil || c.ReadJSON(&o) != nil {
		b.Fatal("hello failed")
	}
	questions := []string{"how much is the employer compliance fee", "can my spouse work in canada",
		"what is a pgwp", "iec working holiday age limit", "do I need an LMIA"}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		id := fmt.Sprint("b", i)
		if err := c.WriteJSON(In{Type: "msg", ID: id, Text: questions[i%len(questions)]}); err != nil {
			b.Fatal(err)
		}
		for {
			var o Out
			if err := c.ReadJSON(&o); err != nil {
				b.Fatal(err)
			}
			if o.ID == id {
				if o.Type != "entries" {
					b.Fatalf("%+v", o)
				}
				break
			}
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkPostAnswer: one widget asks the real router over the POST
// transport, its conversation kept in memory or in a real redis-server
// (read before and written after each message, under a lock), so the cost
// of sharing the conversations between replicas shows. The conversation
// grows to the 200 entries kept, as a long one would. p50 and p99 of the
// round trip.
func BenchmarkPostAnswer(b *testing.B) {
	for _, mode := range []string{"memory", "redis"} {
		b.Run(mode, func(b *testing.B) {
			cfg := Config{PerIP: 1e9, PerIPBurst: 1 << 30, PerSession: 1e9, PerSessionBurst: 1 << 30}
			var store botsession.Store = botsession.NewMemory(30 * time.Minute)
			if mode == "redis" {
				rds := redistest.Start(b)
				c, err := cluster.Open(cluster.Options{URL: rds.URL(), Prefix: "bench"})
				if err != nil {
					b.Fatal(err)
				}
				defer c.Close()
				cfg.Cluster = c
				store = botsession.NewRedis(c, "", 30*time.Minute)
			}
			cfg.Handler, _ = testRouterStore(b, store)
			s, err := New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			ts := httptest.NewServer(s)
			defer ts.Close()
			defer s.Close()
			post := func(in In) Out {
				body, _ := json.Marshal(in)
				resp, err := http.Post(ts.URL+"/chat/"+in.Type, "application/json", bytes.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				defer resp.Body.Close()
				var o Out
				if err := json.NewDecoder(resp.Body).Decode(&o); err != nil {
					b.Fatal(err)
				}
				return o
			}
			sid := post(In{Type: "hello"}).SID
			questions := []string{"how much is the employer compliance fee", "can my spouse work in canada",
				"what is a pgwp", "iec working holiday age limit", "do I need an LMIA"}
			send := func(id string, i int) {
				o := post(In{Type: "send", SID: sid, ID: id, Text: questions[i%len(questions)]})
				if o.Type != "entries" {
					b.Fatalf("%+v", o)
				}
			}
			for i := range 100 { // a long conversation: 200 entries kept
				send(fmt.Sprint("warm", i), i)
			}
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				send(fmt.Sprint("w", i), i)
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
