package knowledge

import (
	"io/fs"
	"strings"
	"testing"
)

// FuzzParseArticle: any bytes give an article or problems, never a panic;
// every problem names the file and a line within it.
func FuzzParseArticle(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte("---\nid: x\n---\n"))
	f.Add([]byte("---\n---\n"))
	f.Add([]byte("---\nquestions: [a, [b]]\nfacts: {fee: 1}\n---\nBody"))
	f.Add([]byte("---\nid: &a x\nlang: *a\nrelated: [*a, *a]\n---\n"))
	f.Add([]byte("\xef\xbb\xbf---\r\nid: bom\r\n---\r\n"))
	if ents, err := fs.ReadDir(Shipped, "en"); err == nil {
		for _, e := range ents[:min(3, len(ents))] {
			if data, err := fs.ReadFile(Shipped, "en/"+e.Name()); err == nil {
				f.Add(data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, probs := ParseArticle("kb/en/x.md", data)
		lines := strings.Count(string(data), "\n") + 2
		for _, p := range probs {
			if p.File != "kb/en/x.md" || p.Line < 0 || p.Line > lines {
				t.Fatalf("problem %v: wrong file or a line outside the file (%d lines)", p, lines)
			}
		}
		if a == nil && len(probs) == 0 {
			t.Fatal("no article and no problem")
		}
	})
}

// FuzzParseSynonymsDomain: the per-language YAML files never panic.
func FuzzParseSynonymsDomain(f *testing.F) {
	for _, name := range []string{SynonymsFile, DomainFile} {
		if data, err := fs.ReadFile(Shipped, name); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("en: [[a, b], [c]]\nfr: x\nzz1: []\n"))
	f.Add([]byte("en: [[a, &x b], [*x, *x]]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ParseSynonyms("s.yaml", data)
		ParseDomain("d.yaml", data)
	})
}
