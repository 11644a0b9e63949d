package console

import (
	"bufio"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// FuzzJSONL: any input gives exactly one JSON output line per non-blank
// input line, never a panic.
func FuzzJSONL(f *testing.F) {
	for _, s := range []string{
		`{"user":"u","text":"hi"}`,
		`{"user":"u","action":"a:x","lang":"fr"}`,
		`{"user":"u","text":"a","action":"b"}`,
		`{"user":""}`,
		`{"user":"u","text":"hi"} {"user":"v"}`,
		`{"user":"u","bogus":1}`,
		`[1,2,3]`,
		"\xff\xfe",
		`{"user":"u","text":"\u0000\ud800"}`,
		"{\"user\":\"u\",\"text\":\"x\"}\r\n\n   \n{",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var out strings.Builder
		if err := RunJSONL(context.Background(), echo, strings.NewReader(in), &out); err != nil {
			t.Fatalf("RunJSONL: %v", err)
		}
		sc := bufio.NewScanner(strings.NewReader(out.String()))
		sc.Buffer(nil, 1<<24)
		n := 0
		for sc.Scan() {
			n++
			var o map[string]any
			if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
				t.Fatalf("output line %d is not a JSON object: %q", n, sc.Text())
			}
		}
		want := 0
		for _, l := range strings.Split(in, "\n") {
			if strings.TrimSpace(l) != "" {
				want++
			}
		}
		if len(in) < MaxLine && n != want {
			t.Fatalf("%d output lines for %d input lines: %q", n, want, out.String())
		}
	})
}
