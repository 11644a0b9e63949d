package knowledge

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const testFacts = `# fees
fee.work_permit:
  kind: money
  value: 155
  source: https://laws-lois.justice.gc.ca/eng/regulations/SOR-2002-227/section-299.html
  reviewed: 2026-12-01
fee.lmia:
  kind: money
  value: 1000
  source: https://www.canada.ca/en/employment-social-development/services/foreign-workers.html
  reviewed: 2026-06-01
date.change:
  kind: date
  value: 2025-01-01
  source: https://www.canada.ca/x.html
  reviewed: 2026-12-01
code.spouse:
  kind: code
  value: C41
  source: https://www.canada.ca/x.html
  reviewed: 2026-12-01
iec.age_max:
  kind: number
  source: https://www.canada.ca/iec.html
  reviewed: 2026-12-01
  until: 2026-12-31
  values:
    IE: 35
    IS: 30
`

func factArticle(id, lang, body string) string {
	return "---\nid: " + id + "\nlang: " + lang + "\nkind: topic\ntitle: T " + id + "\nsummary: The fee is {{fee.work_permit}}.\nquestions:\n  - Q?\nkeywords: [k]\nsources: [https://www.canada.ca/a.html]\nreviewed: 2026-11-25\nrelated: []\n---\n" + body + "\n"
}

func TestFactsAreWrittenInEachLanguage(t *testing.T) {
	b, probs := load(t, map[string]string{
		"facts.yaml": testFacts,
		"en/a.md":    factArticle("a", "en", "Since {{date.change}}: {{fee.lmia}} per position, code {{code.spouse}}, Irish up to {{iec.age_max.IE}}."),
		"fr/a.md":    factArticle("a", "fr", "Depuis le {{date.change}} : {{fee.lmia}} par poste, code {{code.spouse}}, Irlandais jusqu'à {{iec.age_max.IE}} ans."),
	})
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	en, fr := b.Article("en", "a"), b.Article("fr", "a")
	if en.Summary != "The fee is $155." || fr.Summary != "The fee is 155 $." {
		t.Errorf("summaries: %q / %q", en.Summary, fr.Summary)
	}
	if want := "Since 1 January 2025: $1,000 per position, code C41, Irish up to 35."; en.Body != want {
		t.Errorf("en body %q, want %q", en.Body, want)
	}
	if want := "Depuis le 1er janvier 2025 : 1 000 $ par poste, code C41, Irlandais jusqu'à 35 ans."; fr.Body != want {
		t.Errorf("fr body %q, want %q", fr.Body, want)
	}
	if strings.Join(en.Facts, " ") != "code.spouse date.change fee.lmia fee.work_permit iec.age_max.IE" {
		t.Errorf("facts used: %v", en.Facts)
	}
}

func TestFormatMoney(t *testing.T) {
	for _, c := range []struct{ v, lang, want string }{
		{"155", "en", "$155"}, {"155", "fr", "155 $"}, {"1000", "en", "$1,000"}, {"1000", "fr", "1 000 $"},
		{"184.75", "en", "$184.75"}, {"184.75", "fr", "184,75 $"}, {"100000", "en", "$100,000"},
	} {
		if got := FormatMoney(c.v, c.lang); got != c.want {
			t.Errorf("FormatMoney(%s, %s) = %q, want %q", c.v, c.lang, got, c.want)
		}
	}
}

func TestUnknownReferenceAndHandWrittenFeeFailWithFileAndLine(t *testing.T) {
	_, probs := load(t, map[string]string{
		"facts.yaml": testFacts,
		// line 14 is the first body line, 15 the second, 16 the third
		"en/a.md": factArticle("a", "en", "Pay {{fee.work_permt}}.\nThe fee is $155 per person.\nNot a fee: $100,000 or 155 days or {{iec.age_max.XX}}."),
	})
	got := probs.Error()
	for _, want := range []string{
		`kb/en/a.md:14: unknown fact "fee.work_permt" in {{fee.work_permt}}`,
		`kb/en/a.md:15: "$155" is written by hand: write {{fee.work_permit}}`,
		`kb/en/a.md:16: fact "iec.age_max" has no value for "XX"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
	if strings.Count(got, "\n")+1 != 3 {
		t.Errorf("want exactly 3 problems (no false alarm on $100,000 or 155 days):\n%s", got)
	}
}

func TestHandWrittenFrenchFeeAndCode(t *testing.T) {
	_, probs := load(t, map[string]string{
		"facts.yaml": testFacts,
		"en/a.md":    factArticle("a", "en", "Body."),
		"fr/a.md":    factArticle("a", "fr", "Frais de 1 000 $ par poste.\nCode C41."),
	})
	got := probs.Error()
	for _, want := range []string{`kb/fr/a.md:14: "1 000 $" is written by hand`, `kb/fr/a.md:15: "C41" is written by hand`} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
}

func TestBadFactsFileReportsLines(t *testing.T) {
	_, probs := load(t, map[string]string{
		"facts.yaml": "fee.x:\n  kind: money\n  value: 15five\n  source: https://www.canada.ca/x.html\n  reviewed: 2026-12-01\nfee.y:\n  kind: cash\n  value: 1\n  reviewed: yesterday\n",
		"en/a.md":    strings.Replace(factArticle("a", "en", "B."), "{{fee.work_permit}}", "x", 1),
	})
	got := probs.Error()
	for _, want := range []string{`kb/facts.yaml:3: fact "fee.x": "15five" is not a number`, `kb/facts.yaml:7: fact "fee.y": kind "cash"`,
		`kb/facts.yaml:7: fact "fee.y": missing source`, `kb/facts.yaml:7: fact "fee.y": reviewed "yesterday"`} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
}

func TestFrenchTwinMustMatchFactsAndReviewDate(t *testing.T) {
	fr := strings.Replace(factArticle("a", "fr", "Sans référence."), "reviewed: 2026-11-25", "reviewed: 2026-11-01", 1)
	fr = strings.Replace(fr, "{{fee.work_permit}}", "gratuit", 1)
	_, probs := load(t, map[string]string{
		"facts.yaml": testFacts,
		"en/a.md":    factArticle("a", "en", "Code {{code.spouse}}."),
		"fr/a.md":    fr,
	})
	got := probs.Error()
	for _, want := range []string{
		`kb/fr/a.md:11: reviewed 2026-11-01 is earlier than the English article (2026-11-25`,
		`kb/fr/a.md:1: the facts differ from the English article kb/en/a.md: missing {{code.spouse}}, {{fee.work_permit}}`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
}

func TestStaleOldestFirstAndEndedRules(t *testing.T) {
	b, probs := load(t, map[string]string{"facts.yaml": testFacts, "en/a.md": factArticle("a", "en", "{{iec.age_max.IS}}")})
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	now := time.Date(2027, 3, 15, 0, 0, 0, 0, time.UTC)
	items := b.Stale(now)
	var names []string
	for _, s := range items {
		names = append(names, s.Name)
	}
	// fee.lmia (2026-06-01) is the oldest; the article (2026-11-25) is only
	// 96 days old, under the 180-day limit; the other facts are 90+ days old.
	if want := "fee.lmia code.spouse date.change fee.work_permit iec.age_max"; strings.Join(names, " ") != want {
		t.Fatalf("stale = %q, want %q", strings.Join(names, " "), want)
	}
	if items[0].Sources[0] != "https://www.canada.ca/en/employment-social-development/services/foreign-workers.html" || items[0].Line != 7 {
		t.Errorf("first item: %+v", items[0])
	}
	if n := len(b.Stale(time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC))); n != 1 {
		t.Errorf("on 2026-12-02 only fee.lmia is stale, got %d", n)
	}
	ws := b.Warnings(now).Error()
	if !strings.Contains(ws, "kb/facts.yaml:22: warning: fact iec.age_max stopped applying on 2026-12-31 (until); answers that use it are out of date: en/a") {
		t.Errorf("no end-of-rule warning:\n%s", ws)
	}
	if strings.Contains(b.Warnings(time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)).Error(), "stopped applying") {
		t.Error("warned about a rule that still applies")
	}
	// An article with an end date.
	temp := strings.Replace(factArticle("t", "en", "A temporary policy."), "related: []", "related: []\nuntil: 2026-12-15", 1)
	b, probs = load(t, map[string]string{"facts.yaml": testFacts, "en/t.md": temp})
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	if ws := b.Warnings(time.Date(2026, 12, 20, 0, 0, 0, 0, time.UTC)).Error(); !strings.Contains(ws, "kb/en/t.md:13: warning: article en/t describes a rule that stopped applying on 2026-12-15") {
		t.Errorf("no warning for the ended article:\n%s", ws)
	}
	if ws := b.Warnings(time.Date(2026, 12, 10, 0, 0, 0, 0, time.UTC)).Error(); strings.Contains(ws, "en/t describes") {
		t.Errorf("warned before the end date:\n%s", ws)
	}
}

func TestShippedFactsDriveArticlesAndRules(t *testing.T) {
	t.Parallel() // loads or scans on its own
	b, probs := Load(Shipped, "knowledge")
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	if b.Facts.Fact("fee.work_permit") == nil || b.Facts.Fact("iec.age_max").Values["IS"] != "30" {
		t.Fatal("shipped facts lack the work permit fee or Iceland's IEC age")
	}
	if !strings.Contains(b.Article("en", "worker-fees").Summary, "$155") || !strings.Contains(b.Article("fr", "worker-fees").Summary, "155 $") {
		t.Error("worker-fees does not show the work permit fee in both languages")
	}
	rules := string(b.Files["eligibility.yaml"])
	if strings.Contains(rules, "{{") || !strings.Contains(rules, "IS: 30") || !strings.Contains(rules, "IE: 35") {
		t.Error("eligibility.yaml references not substituted")
	}
}

const learnArticle = `---
id: a
lang: en
kind: topic
title: A
summary: S.
# how people ask
questions:
  - What is A?
  # a comment between items
  - "Is A: the thing?"
keywords: [a]   # keep me
sources: [https://www.canada.ca/a.html]
reviewed: 2026-11-25
related: []
---
Body {{x}} stays.
`

func TestAddQuestionKeepsFormattingAndComments(t *testing.T) {
	out, err := AddQuestion([]byte(learnArticle), "  how   do I get A: quickly? ")
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(learnArticle, "  - \"Is A: the thing?\"\n", "  - \"Is A: the thing?\"\n  - 'how do I get A: quickly?'\n", 1)
	if string(out) != want {
		t.Fatalf("got:\n%s\nwant:\n%s", out, want)
	}
	if _, err := AddQuestion(out, "what is a"); !errors.Is(err, ErrKnownQuestion) {
		t.Errorf("duplicate accepted: %v", err)
	}
	flow := strings.Replace(learnArticle, "questions:\n  - What is A?\n  # a comment between items\n  - \"Is A: the thing?\"\n", "questions: [What is A, Who]\n", 1)
	out, err = AddQuestion([]byte(flow), "Why A?")
	if err != nil || !strings.Contains(string(out), "questions: [What is A, Who, \"Why A?\"]\n") {
		t.Errorf("flow list: %v\n%s", err, out)
	}
}

func TestLearnQuestionWritesTheFile(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "en"), 0o755)
	p := filepath.Join(dir, "en", "a.md")
	os.WriteFile(p, []byte(learnArticle), 0o644)
	if _, err := LearnQuestion(dir, "en", "a", "A for beginners"); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(p)
	if !strings.Contains(string(data), "  - A for beginners\nkeywords: [a]   # keep me\n") {
		t.Errorf("file:\n%s", data)
	}
	if _, err := LearnQuestion(dir, "en", "../x", "q"); err == nil {
		t.Error("accepted a path as article id")
	}
}

func TestGuessLang(t *testing.T) {
	if GuessLang("je suis française, 29 ans, PVT ?") != "fr" || GuessLang("what is the IEC age limit") != "en" {
		t.Error("GuessLang")
	}
}

// BenchmarkLoadShipped measures loading the shipped knowledge: parsing,
// fact substitution and the hand-written-value checks.
func BenchmarkLoadShipped(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, probs := Load(Shipped, "knowledge"); len(probs) > 0 {
			b.Fatal(probs)
		}
	}
}
