package bot

import (
	"context"
	"sort"
	"testing"
	"time"
)

var benchQuestions = []string{
	"how much is the employer compliance fee",
	"my wife got a job in toronto can i work too",
	"can i get my pgwp at the border",
	"im american with a job offer, do i qualify under cusma",
	"ok long story, my permit expires next month and i applied for PR with express entry, what can i do to keep working",
	"best pizza in town",
}

// BenchmarkAnswer measures the whole FAQ answer path in process: detection,
// search, re-ranking and formatting the reply. It reports p50 and p99.
func BenchmarkAnswer(b *testing.B) {
	// Measured at Go's default GOGC (the binary raises it, which only
	// helps).
	r := newTestRouter(&testing.T{}, Options{Contact: "someone@example.com"})
	h := Chain(r, Recover(), RateLimit(0, 0))
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := h.Handle(ctx, &Request{Platform: "bench", ChatID: "c", UserID: "u", Text: benchQuestions[i%len(benchQuestions)]}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
