package dialogue

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/impbot/impbot/knowledge"
)

// FuzzParseRules: any rules file gives rules or problems naming the file,
// never a panic.
func FuzzParseRules(f *testing.F) {
	if data, err := fs.ReadFile(knowledge.Shipped, "eligibility.yaml"); err == nil {
		f.Add(data)
		// A few truncations of the real file: half-written edits.
		for _, n := range []int{len(data) / 3, len(data) / 2, 2 * len(data) / 3} {
			f.Add(data[:n])
		}
	}
	f.Add([]byte("questions: [{id: a, ask: {en: x}}]\noutcomes: []\n"))
	f.Add([]byte("- &a [*a]\n"))
	_, b := shippedRules(f) // loaded once per process, shared with the tests
	f.Fuzz(func(t *testing.T, data []byte) {
		r, probs := Parse("kb/eligibility.yaml", data, b)
		for _, p := range probs {
			if p.File != "kb/eligibility.yaml" || p.Line < 0 || p.Line > strings.Count(string(data), "\n")+2 {
				t.Fatalf("problem %v: wrong file or line", p)
			}
		}
		if r == nil && len(probs) == 0 {
			t.Fatal("no rules and no problem")
		}
	})
}
