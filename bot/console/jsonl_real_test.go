package console_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/impbot/impbot/bot/console"
	"github.com/impbot/impbot/bot/service"
)

// devQuestions reads the "q" of the dev question sets of cmd/impbot.
func devQuestions(t *testing.T) []string {
	t.Helper()
	var qs []string
	for _, f := range []string{"dev.jsonl", "dev-fr.jsonl"} {
		data, err := os.ReadFile("../../cmd/impbot/testdata/" + f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			var l struct{ Q string }
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			qs = append(qs, l.Q)
		}
	}
	if len(qs) < 150 {
		t.Fatalf("only %d dev questions", len(qs))
	}
	return qs
}

// realInput is the dev questions as distinct users, plus users going
// through the eligibility check (several lines each, interleaved with the
// others), users asking a follow-up, and malformed lines.
func realInput(t *testing.T) string {
	qs := devQuestions(t)
	line := func(user, field, val string) string {
		b, _ := json.Marshal(map[string]string{"user": user, field: val})
		return string(b)
	}
	var scripts [][]string
	for i, q := range qs {
		s := []string{line(fmt.Sprint("q", i), "text", q)}
		if i%10 == 0 { // a follow-up from the same user
			s = append(s, line(fmt.Sprint("q", i), "text", qs[(i+7)%len(qs)]))
		}
		scripts = append(scripts, s)
	}
	for i := range 30 {
		u := fmt.Sprint("d", i)
		s := []string{line(u, "text", "/eligibility"), line(u, "action", "d:asker=worker")}
		switch i % 3 {
		case 0:
			s = append(s, line(u, "text", "France"), line(u, "text", "28"), line(u, "text", "what is a PGWP?"), line(u, "text", "/summary"))
		case 1:
			s = append(s, line(u, "text", "Mexique"), line(u, "text", "/back"), line(u, "text", "Chile"), line(u, "text", "/cancel"))
		case 2:
			s = append(s, line(u, "text", "no idea"), line(u, "text", "???"), line(u, "text", "skip"), line(u, "text", "check my eligibility"))
		}
		scripts = append(scripts, s)
	}
	scripts = append(scripts, []string{`{"user":"x","text":"a","action":"b"}`, `not json`, `{"text":"no user"}`})
	var b strings.Builder
	for round := 0; ; round++ { // one line of each script per round: users interleave
		any := false
		for _, s := range scripts {
			if round < len(s) {
				b.WriteString(s[round] + "\n")
				any = true
			}
		}
		if !any {
			return b.String()
		}
	}
}

func runReal(t *testing.T, input string, workers int) []byte {
	t.Helper()
	app, err := service.LocalApp("", "", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	var out bytes.Buffer
	if err := console.RunJSONLWith(context.Background(), app.Handler, strings.NewReader(input), &out, console.JSONLOptions{Workers: workers}); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestJSONLParallelEqualsSequential: the real bot (embedded knowledge, a
// fresh app each time) answers the dev questions and dialogues with 8
// workers byte for byte as with one.
func TestJSONLParallelEqualsSequential(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the real app twice")
	}
	input := realInput(t)
	seq := runReal(t, input, 1)
	par := runReal(t, input, 8)
	nIn := strings.Count(input, "\n")
	if n := bytes.Count(seq, []byte("\n")); n != nIn {
		t.Fatalf("sequential: %d output lines for %d input lines", n, nIn)
	}
	if !bytes.Contains(seq, []byte(`"dialogue":{"done":true`)) || !bytes.Contains(seq, []byte(`"ask":"citizenship"`)) {
		t.Fatal("the dialogues did not run (no citizenship question or result)")
	}
	if !bytes.Equal(seq, par) {
		sl, pl := strings.Split(string(seq), "\n"), strings.Split(string(par), "\n")
		for i := range min(len(sl), len(pl)) {
			if sl[i] != pl[i] {
				t.Fatalf("line %d differs:\nsequential: %s\nparallel:   %s", i, sl[i], pl[i])
			}
		}
		t.Fatalf("outputs differ in length: %d and %d lines", len(sl), len(pl))
	}
	t.Logf("%d lines, %d bytes, identical", nIn, len(seq))
}

// BenchmarkJSONLInProcess: RunJSONL on the real app (embedded knowledge),
// 4,000 lines of distinct users (the dev questions in turn), one worker
// and the default; msgs/s. With -cpuprofile it shows the share of the
// time spent answering (the handler) against the loop around it.
func BenchmarkJSONLInProcess(b *testing.B) {
	data, err := os.ReadFile("../../cmd/impbot/testdata/dev.jsonl")
	if err != nil {
		b.Fatal(err)
	}
	var qs []string
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var q struct{ Q string }
		json.Unmarshal([]byte(l), &q)
		qs = append(qs, q.Q)
	}
	var in strings.Builder
	const lines = 4000
	for i := range lines {
		l, _ := json.Marshal(map[string]string{"user": fmt.Sprint("user", i), "text": qs[i%len(qs)]})
		in.Write(l)
		in.WriteByte('\n')
	}
	app, err := service.LocalApp("", "", io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	defer app.Close()
	for _, workers := range []int{1, 0} {
		b.Run(fmt.Sprint("workers=", workers), func(b *testing.B) {
			cpu0 := processCPU()
			for b.Loop() {
				if err := console.RunJSONLWith(context.Background(), app.Handler, strings.NewReader(in.String()), io.Discard, console.JSONLOptions{Workers: workers}); err != nil {
					b.Fatal(err)
				}
			}
			cpu := processCPU() - cpu0
			b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			b.ReportMetric(float64(cpu.Microseconds())/float64(lines*b.N), "cpu-µs/msg")
			b.ReportMetric(cpu.Seconds()/b.Elapsed().Seconds(), "cores")
		})
	}
}

// processCPU is the CPU time (user and system) this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
