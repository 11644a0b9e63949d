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

var benchQuestionsFR = []string{
	"combien coûtent les frais de conformité de l'employeur",
	"ma femme a un emploi à toronto, est-ce que je peux travailler aussi",
	"puis-je obtenir mon pgwp à la frontière",
	"je suis américain avec une offre d'emploi, suis-je admissible sous l'aceum",
	"mon permis expire le mois prochain et j'ai demandé la résidence permanente, comment continuer à travailler",
	"meilleure pizza en ville",
}

// BenchmarkAnswer measures the whole FAQ answer path in process: detection,
// search, re-ranking and formatting the reply. It reports p50 and p99.
func BenchmarkAnswer(b *testing.B) { benchAnswer(b, "", benchQuestions) }

// BenchmarkAnswerFR is BenchmarkAnswer with French questions.
func BenchmarkAnswerFR(b *testing.B) { benchAnswer(b, "fr", benchQuestionsFR) }

func benchAnswer(b *testing.B, lang string, qs []string) {
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
		if _, err := h.Handle(ctx, &Request{Platform: "bench", ChatID: "c", UserID: "u", Lang: lang, Text: qs[i%len(qs)]}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
