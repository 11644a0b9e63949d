package index

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// miniQuestions reads the questions of cmd/impbot/testdata/dev.jsonl: the
// questions that the MiniSearch comparison (testdata/minisearch) asks too.
func miniQuestions(tb testing.TB) []string {
	tb.Helper()
	f, err := os.Open(filepath.Join("..", "cmd", "impbot", "testdata", "dev.jsonl"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var qs []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var l struct {
			Q string `json:"q"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			tb.Fatalf("dev.jsonl: %v", err)
		}
		qs = append(qs, l.Q)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	if len(qs) == 0 {
		tb.Fatal("dev.jsonl has no questions")
	}
	return qs
}

// minisearchDoc is one shipped article as testdata/minisearch/bench.mjs
// indexes it.
type minisearchDoc struct {
	ID        string `json:"id"`
	Title     string `json:"title"`
	Summary   string `json:"summary"`
	Questions string `json:"questions"`
	Keywords  string `json:"keywords"`
	Body      string `json:"body"`
}

// TestExportMiniSearchCorpus writes the shipped English articles and the
// dev questions to testdata/minisearch/corpus.json for bench.mjs. It runs
// only when IMPBOT_EXPORT_MINISEARCH=1. With IMPBOT_MINISEARCH_SYNTH=n it
// writes corpus-synth<n>.json instead: the synthetic knowledge of n
// articles and the questions of BenchmarkSynthSearch (synthBase seed 1,
// synthQuestions), for the comparison at size.
func TestExportMiniSearchCorpus(t *testing.T) {
	if os.Getenv("IMPBOT_EXPORT_MINISEARCH") != "1" {
		t.Skip("set IMPBOT_EXPORT_MINISEARCH=1 to write testdata/minisearch/corpus.json")
	}
	kb := shippedBase(t)
	name := "corpus.json"
	qs := miniQuestions(t)
	if v := os.Getenv("IMPBOT_MINISEARCH_SYNTH"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("IMPBOT_MINISEARCH_SYNTH=%q: want a number of articles", v)
		}
		kb, qs, name = synthBase(t, n, 1), synthQuestions(t), "corpus-synth"+v+".json"
	}
	var out struct {
		Articles  []minisearchDoc `json:"articles"`
		Questions []string        `json:"questions"`
	}
	for _, a := range kb.Articles["en"] {
		out.Articles = append(out.Articles, minisearchDoc{
			ID: a.ID, Title: a.Title, Summary: a.Summary,
			Questions: strings.Join(a.Questions, "\n"), Keywords: strings.Join(a.Keywords, "\n"), Body: a.Body,
		})
	}
	out.Questions = qs
	data, err := json.MarshalIndent(out, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "minisearch", name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s: %d articles, %d questions", path, len(out.Articles), len(out.Questions))
}

// BenchmarkDevQuestions runs impbot's search over the dev questions in
// turn, one per iteration (ns/op is per question), on the shipped
// knowledge: the Go side of the MiniSearch comparison.
func BenchmarkDevQuestions(b *testing.B) {
	ix := shipped(b)
	qs := miniQuestions(b)
	benchSearchLatency(b, ix, qs)
}
