package console

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/impbot/impbot/bot"
)

// orderProbe answers "<user> <text>", sleeping for users whose name starts
// with "slow", and records how many requests ran at once and whether two
// of one user ever overlapped or came out of order (texts are 1, 2, 3…
// per user).
type orderProbe struct {
	mu       sync.Mutex
	inFlight map[string]bool
	lastSeen map[string]int
	now, max int
	errs     []string
	calls    atomic.Int64
}

func newOrderProbe() *orderProbe {
	return &orderProbe{inFlight: map[string]bool{}, lastSeen: map[string]int{}}
}

func (p *orderProbe) Handle(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	p.calls.Add(1)
	n, _ := strconv.Atoi(req.Text)
	p.mu.Lock()
	if p.inFlight[req.UserID] {
		p.errs = append(p.errs, req.UserID+": two lines at once")
	}
	if n != p.lastSeen[req.UserID]+1 {
		p.errs = append(p.errs, fmt.Sprintf("%s: line %d after %d", req.UserID, n, p.lastSeen[req.UserID]))
	}
	p.lastSeen[req.UserID] = n
	p.inFlight[req.UserID] = true
	p.now++
	p.max = max(p.max, p.now)
	p.mu.Unlock()
	if strings.HasPrefix(req.UserID, "slow") {
		time.Sleep(time.Duration(2+n%3) * time.Millisecond)
	} else {
		time.Sleep(200 * time.Microsecond)
	}
	p.mu.Lock()
	p.inFlight[req.UserID] = false
	p.now--
	p.mu.Unlock()
	return &bot.Response{Replies: []bot.Reply{{Text: req.UserID + " " + req.Text}}}, nil
}

// TestJSONLParallelKeepsOrder: lines of slow and fast users, several per
// user, interleaved: the output is in input order, each user's lines are
// answered one at a time in order, and lines did run in parallel.
func TestJSONLParallelKeepsOrder(t *testing.T) {
	var in strings.Builder
	var want []string
	count := map[string]int{}
	for i := range 600 {
		u := fmt.Sprint("fast", i%37)
		if i%5 == 0 {
			u = fmt.Sprint("slow", i%3)
		}
		count[u]++
		fmt.Fprintf(&in, `{"user":%q,"text":"%d"}`+"\n", u, count[u])
		want = append(want, fmt.Sprintf("%s %d", u, count[u]))
		if i%100 == 0 {
			in.WriteString("{broken\n\n") // a malformed line (answered at once) and a blank one (skipped)
			want = append(want, "error")
		}
	}
	p := newOrderProbe()
	var out bytes.Buffer
	if err := RunJSONLWith(context.Background(), p, strings.NewReader(in.String()), &out, JSONLOptions{Workers: 8}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d output lines, want %d", len(lines), len(want))
	}
	for i, l := range lines {
		var o Out
		if err := json.Unmarshal([]byte(l), &o); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		got := o.Error
		if got != "" {
			got = "error"
		} else if len(o.Replies) == 1 {
			got = o.Replies[0].Text
		}
		if got != want[i] {
			t.Fatalf("output line %d is %q, want %q (order lost)", i, got, want[i])
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range p.errs {
		t.Error(e)
	}
	if p.max < 2 {
		t.Errorf("at most %d line(s) answered at once: not parallel", p.max)
	}
	t.Logf("up to %d lines at once", p.max)
}

// TestJSONLSameUserNeverOverlaps: one user's 200 lines with 8 workers are
// answered strictly one after the other.
func TestJSONLSameUserNeverOverlaps(t *testing.T) {
	var in strings.Builder
	for i := 1; i <= 200; i++ {
		fmt.Fprintf(&in, `{"user":"slowpoke","text":"%d"}`+"\n", i)
		fmt.Fprintf(&in, `{"user":"other%d","text":"1"}`+"\n", i)
	}
	p := newOrderProbe()
	var out bytes.Buffer
	if err := RunJSONLWith(context.Background(), p, strings.NewReader(in.String()), &out, JSONLOptions{Workers: 8}); err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range p.errs {
		t.Error(e)
	}
	if p.lastSeen["slowpoke"] != 200 {
		t.Fatalf("slowpoke's last line %d, want 200", p.lastSeen["slowpoke"])
	}
	if n := strings.Count(out.String(), "\n"); n != 400 {
		t.Fatalf("%d output lines, want 400", n)
	}
}

// TestJSONLFlushesWhenIdle: through pipes, each answer is readable while
// the input is still open, whether lines come one by one or several in one
// write.
func TestJSONLFlushesWhenIdle(t *testing.T) {
	for _, workers := range []int{1, 4} {
		t.Run(fmt.Sprint("workers=", workers), func(t *testing.T) {
			inR, inW := io.Pipe()
			outR, outW := io.Pipe()
			done := make(chan error, 1)
			go func() {
				done <- RunJSONLWith(context.Background(), echo, inR, outW, JSONLOptions{Workers: workers})
				outW.Close()
			}()
			lines := make(chan string)
			go func() {
				sc := bufio.NewScanner(outR)
				for sc.Scan() {
					lines <- sc.Text()
				}
				close(lines)
			}()
			expect := func(texts ...string) {
				t.Helper()
				for _, text := range texts {
					select {
					case l := <-lines:
						if !strings.Contains(l, "text="+text+" ") {
							t.Fatalf("got %s, want the answer to %q", l, text)
						}
					case <-time.After(10 * time.Second):
						t.Fatalf("no answer to %q while the input stays open (not flushed)", text)
					}
				}
			}
			fmt.Fprintln(inW, `{"user":"a","text":"one"}`)
			expect("one")
			fmt.Fprint(inW, `{"user":"a","text":"two"}`+"\n"+`{"user":"b","text":"three"}`+"\n"+`{"user":"c","te`)
			expect("two", "three") // a partial line is buffered: what came before is flushed
			fmt.Fprintln(inW, `xt":"four"}`)
			expect("four")
			inW.Close()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if l, ok := <-lines; ok {
				t.Fatalf("extra output %s", l)
			}
		})
	}
}

// failWriter fails every write after the first n bytes.
type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("disk full")
	}
	f.n -= len(p)
	return len(p), nil
}

// TestJSONLWriteErrorStops: a failing output stops the loop with the error,
// although input remains.
func TestJSONLWriteErrorStops(t *testing.T) {
	var in strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&in, `{"user":"u%d","text":"x"}`+"\n", i)
	}
	err := RunJSONLWith(context.Background(), echo, strings.NewReader(in.String()), &failWriter{n: 1000}, JSONLOptions{Workers: 4})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v, want the write error", err)
	}
}

// TestJSONLCancelStops: a cancelled context ends the loop even though the
// input stays open.
func TestJSONLCancelStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	inR, inW := io.Pipe()
	defer inW.Close()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- RunJSONLWith(ctx, echo, inR, outW, JSONLOptions{Workers: 4}) }()
	go io.Copy(io.Discard, outR)
	fmt.Fprintln(inW, `{"user":"a","text":"one"}`)
	cancel()
	go fmt.Fprintln(inW, `{"user":"a","text":"two"}`) // wakes the reader if it waits for input
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("still running after cancel")
	}
}

// BenchmarkJSONLLoop: the loop alone (reading, parsing, ordering, encoding,
// writing) around a handler that costs nothing, 10,000 lines of distinct
// users; msgs/s.
func BenchmarkJSONLLoop(b *testing.B) {
	var in strings.Builder
	const lines = 10000
	for i := range lines {
		fmt.Fprintf(&in, `{"user":"user%d","text":"how long is a PGWP valid?"}`+"\n", i)
	}
	for _, workers := range []int{1, 0} {
		b.Run(fmt.Sprint("workers=", workers), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := RunJSONLWith(context.Background(), echo, strings.NewReader(in.String()), io.Discard, JSONLOptions{Workers: workers}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
