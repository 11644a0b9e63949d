package service

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/impbot/impbot/bot"
	"github.com/impbot/impbot/bot/console"
	"github.com/impbot/impbot/index"
)

// startAndAnswer does what `impbot ask` does with the embedded knowledge:
// load it, build (or open) its index, build the app, answer one question.
// The process-wide embedded index is reset first, so each call starts
// from nothing but the cache folder.
func startAndAnswer(tb testing.TB, q string) {
	embedded.once = sync.Once{}
	embedded.b, embedded.ix, embedded.err = nil, nil, nil
	app, err := LocalApp("", "", io.Discard)
	if err != nil {
		tb.Fatal(err)
	}
	resp, err := app.Handler.Handle(context.Background(), &bot.Request{Platform: console.Platform, ChatID: "ask", UserID: "ask", Text: q})
	if err != nil || len(resp.Replies) == 0 {
		tb.Fatalf("no answer: %v", err)
	}
	app.Close()
	embedded.ix.Close()
}

// benchStart measures startAndAnswer; before each run, prep empties what
// the run must not find in the cache folder.
func benchStart(b *testing.B, prep func(dir string)) {
	// The embedded knowledge's index as the other tests and benchmarks
	// of the process have it is put back afterwards.
	sb, six, serr := embedded.b, embedded.ix, embedded.err
	b.Cleanup(func() {
		embedded.once = sync.Once{}
		embedded.b, embedded.ix, embedded.err = sb, six, serr
		if sb != nil || serr != nil {
			embedded.once.Do(func() {})
		}
	})
	dir := b.TempDir()
	old := index.CacheDir
	index.CacheDir = dir
	b.Cleanup(func() { index.CacheDir = old })
	startAndAnswer(b, "how much is the employer compliance fee") // fills the cache
	b.ResetTimer()
	var cpu time.Duration // the process's CPU time in the timed parts
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		prep(dir)
		c0 := cpuTime()
		b.StartTimer()
		startAndAnswer(b, "how much is the employer compliance fee")
		b.StopTimer()
		cpu += cpuTime() - c0
		b.StartTimer()
	}
	// CPU time is the steadier figure on a loaded machine (it includes
	// what runs in the background meanwhile: garbage collection, the
	// typo corrector's indexing).
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
}

// BenchmarkStartCached is start to first answer with the shipped knowledge
// when the cache holds its index and rankers (every start but the first
// after a knowledge change).
func BenchmarkStartCached(b *testing.B) { benchStart(b, func(string) {}) }

// BenchmarkStartCold is start to first answer with no cached index (the
// rankers cached, as after an upgrade that changes only the index).
func BenchmarkStartCold(b *testing.B) {
	benchStart(b, func(dir string) {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), "index-") {
				os.RemoveAll(filepath.Join(dir, e.Name()))
			}
		}
	})
}
