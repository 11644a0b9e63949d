package web

import (
	"fmt"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
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
