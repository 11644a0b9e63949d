//go:build !race

package dialogue

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/impbot/impbot/bot/session"
)

// liveSessions starts n dialogues in a Memory store, each one answer in
// (the state holds a fact, the order and the next question), and returns
// the heap growth in bytes after a GC.
func liveSessions(tb testing.TB, n int) uint64 {
	ctx := context.Background()
	store := session.NewMemory(0)
	e := newEngine(tb, store)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		u := fmt.Sprintf("user%07d", i)
		if _, err := e.Start(ctx, userReq(u, "/eligibility", "")); err != nil {
			tb.Fatal(err)
		}
		if _, ok, err := e.Handle(ctx, userReq(u, "", "d:asker=worker"), nil); !ok || err != nil {
			tb.Fatalf("%s: ok=%v err=%v", u, ok, err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if got := store.Len(); got != n {
		tb.Fatalf("%d sessions stored, want %d", got, n)
	}
	runtime.KeepAlive(e)
	runtime.KeepAlive(store)
	if after.HeapAlloc < before.HeapAlloc {
		return 0
	}
	return after.HeapAlloc - before.HeapAlloc
}

// TestHundredThousandSessionsMemory: 100,000 live dialogues cost at most
// 100 MB of heap (issue 16). Not under -race, which multiplies the heap.
//
// Not parallel: it measures the heap, so it runs before the parallel tests
// start and alone.
func TestHundredThousandSessionsMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 dialogues: not in -short")
	}
	grew := liveSessions(t, 100_000)
	t.Logf("100,000 live dialogues: heap +%.1f MB (%d bytes per session)", float64(grew)/1e6, grew/100_000)
	if grew > 100<<20 {
		t.Fatalf("100,000 live dialogues grew the heap by %.1f MB, want <= 100 MB", float64(grew)/(1<<20))
	}
}

// BenchmarkLiveSessionsMemory reports the heap per live dialogue (and per
// 100,000), after each b.N round of 10,000 users.
func BenchmarkLiveSessionsMemory(b *testing.B) {
	for b.Loop() {
		grew := liveSessions(b, 10_000)
		b.ReportMetric(float64(grew)/10_000, "B/session")
		b.ReportMetric(float64(grew)*10/1e6, "MB/100k")
	}
}
