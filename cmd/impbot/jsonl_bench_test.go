package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// benchLines is the size of the whole-process chat --jsonl run (issue 16).
const benchLines = 20000

// jsonlBenchInput is benchLines lines from distinct users, the questions of
// the dev and extra question sets (EN and FR) in turn.
func jsonlBenchInput(tb testing.TB) []byte {
	var qs []string
	for _, f := range []string{"dev.jsonl", "dev-fr.jsonl", "questions-extra.jsonl"} {
		data, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			tb.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			var l struct{ Q string }
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil || l.Q == "" {
				tb.Fatalf("%s: %q: %v", f, sc.Text(), err)
			}
			qs = append(qs, l.Q)
		}
	}
	var b bytes.Buffer
	for i := range benchLines {
		line, _ := json.Marshal(map[string]string{"user": fmt.Sprint("user", i), "text": qs[i%len(qs)]})
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// lineCounter counts the output lines.
type lineCounter struct{ n int }

func (c *lineCounter) Write(p []byte) (int, error) {
	c.n += bytes.Count(p, []byte{'\n'})
	return len(p), nil
}

// BenchmarkChatJSONLProcess runs the built binary, `impbot chat --jsonl`,
// on 20,000 lines of distinct users, start-up included, at Go's default
// GOGC, and reports messages per second for the whole process, the CPU
// time per message and the cores it kept busy on average. Run it with
// -benchtime=1x -count=5 for five runs.
func BenchmarkChatJSONLProcess(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "impbot")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	input := jsonlBenchInput(b)
	b.ResetTimer()
	for b.Loop() {
		cmd := exec.Command(bin, "chat", "--jsonl")
		cmd.Env = append(os.Environ(), "GOGC=100")
		cmd.Stdin = bytes.NewReader(input)
		out := &lineCounter{}
		cmd.Stdout = out
		var stderr strings.Builder
		cmd.Stderr = &stderr
		start := time.Now()
		if err := cmd.Run(); err != nil {
			b.Fatalf("impbot chat --jsonl: %v\n%s", err, stderr.String())
		}
		el := time.Since(start)
		if out.n != benchLines {
			b.Fatalf("%d output lines for %d input lines", out.n, benchLines)
		}
		b.ReportMetric(benchLines/el.Seconds(), "msgs/s")
		// CPU time per message (user+system, all threads): on a shared,
		// loaded machine the wall-clock rate measures the neighbours too.
		cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		b.ReportMetric(float64(cpu.Microseconds())/benchLines, "cpu-µs/msg")
		b.ReportMetric(cpu.Seconds()/el.Seconds(), "cores")
	}
}
