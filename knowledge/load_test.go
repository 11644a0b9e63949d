package knowledge

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestShippedKnowledgeIsValid(t *testing.T) {
	t.Parallel() // loads or scans on its own
	b, probs := Load(Shipped, "knowledge")
	if len(probs) > 0 {
		t.Fatalf("shipped knowledge has problems:\n%v", probs)
	}
	if b.Count() < 61 {
		t.Fatalf("want the 61 catalogue articles, got %d", b.Count())
	}
	for _, a := range b.Articles["en"] {
		if a.Kind == KindTopic && len(a.Sources) == 0 {
			t.Errorf("%s: topic without sources", a.ID)
		}
		if a.Reviewed == "" {
			t.Errorf("%s: no reviewed date", a.ID)
		}
	}
	if len(b.Synonyms["en"]) == 0 || len(b.Domain["en"]) == 0 {
		t.Fatal("synonyms or domain words missing")
	}
}

const good = `---
id: alpha
lang: en
kind: topic
title: Alpha
summary: The alpha answer.
questions:
  - What is alpha?
keywords: [alpha]
sources: [https://www.canada.ca/alpha.html]
reviewed: 2026-11-25
related: []
---
Body.
`

func load(t *testing.T, files map[string]string) (*Base, Problems) {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, content := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(content)}
	}
	return Load(fsys, "kb")
}

func TestProblemsNameFileAndLine(t *testing.T) {
	cases := []struct {
		name    string
		file    string
		content string
		want    string // substring of "file:line: message"
	}{
		{"bad yaml", "en/alpha.md", strings.Replace(good, "title: Alpha", "title: a: b", 1), "kb/en/alpha.md:5: front matter: line 5: mapping values are not allowed"},
		{"missing id", "en/alpha.md", strings.Replace(good, "id: alpha\n", "", 1), "kb/en/alpha.md:1: missing id"},
		{"id mismatch", "en/beta.md", good, `kb/en/beta.md:2: id "alpha" does not match the file name`},
		{"unknown related", "en/alpha.md", strings.Replace(good, "related: []", "related: [nowhere]", 1), `kb/en/alpha.md:12: related id "nowhere" is not an article`},
		{"bad url", "en/alpha.md", strings.Replace(good, "https://www.canada.ca/alpha.html", "ftp//nope", 1), "kb/en/alpha.md:10: source"},
		{"bad date", "en/alpha.md", strings.Replace(good, "2026-11-25", "25/11/2026", 1), "kb/en/alpha.md:11: reviewed"},
		{"empty summary", "en/alpha.md", strings.Replace(good, "summary: The alpha answer.", `summary: ""`, 1), "kb/en/alpha.md:6: missing or empty summary"},
		{"unknown key", "en/alpha.md", strings.Replace(good, "kind: topic", "kind: topic\ncolour: blue", 1), "kb/en/alpha.md:5: front matter: unmarshal errors:   line 5: field colour not found"},
		{"no front matter", "en/alpha.md", "just text\n", "kb/en/alpha.md:1: missing front matter"},
		{"unclosed front matter", "en/alpha.md", "---\nid: alpha\n", "kb/en/alpha.md:1: front matter not closed"},
		{"binary", "en/alpha.md", "---\x00\xff", "kb/en/alpha.md:1: file is not UTF-8 text"},
		{"bad kind", "en/alpha.md", strings.Replace(good, "kind: topic", "kind: faq", 1), `kb/en/alpha.md:4: kind "faq"`},
		{"bare article id", "en/alpha.md", strings.Replace(good, "Body.", "Body.\nMore, see alpha.", 1), `kb/en/alpha.md:15: bare article id "alpha"`},
		{"unknown article link", "en/alpha.md", strings.Replace(good, "Body.", "Body, [Nowhere](article:nowhere).", 1), `kb/en/alpha.md:14: link to unknown article "nowhere"`},
		{"unrelated not a list", "en/unrelated.yaml", "a: b\n", "kb/en/unrelated.yaml:1: expected a list of example questions"},
		{"unrelated repeated", "en/unrelated.yaml", "- Where to fish?\n- where to fish?\n", "kb/en/unrelated.yaml:2: example repeated"},
		{"topic without sources", "en/alpha.md", strings.Replace(good, "sources: [https://www.canada.ca/alpha.html]", "sources: []", 1), "kb/en/alpha.md:10: a topic needs"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, probs := load(t, map[string]string{c.file: c.content})
			if len(probs) == 0 {
				t.Fatalf("no problem reported, want %q", c.want)
			}
			all := probs.Error()
			if !strings.Contains(all, c.want) {
				t.Fatalf("problems:\n%s\nwant one containing %q", all, c.want)
			}
		})
	}
}

func TestDuplicateID(t *testing.T) {
	// Two files cannot both be named alpha.md, so give the second a
	// mismatching name and check the duplicate is reported too.
	_, probs := load(t, map[string]string{"en/alpha.md": good, "en/alpha2.md": good})
	if !strings.Contains(probs.Error(), `duplicate id "alpha"`) {
		t.Fatalf("want a duplicate-id problem, got:\n%v", probs)
	}
}

func TestSynonymsProblems(t *testing.T) {
	_, probs := load(t, map[string]string{
		"en/alpha.md":   good,
		"synonyms.yaml": "en:\n  - [owp, open work permit]\n  - [lonely]\n  - [owp, other]\n",
	})
	s := probs.Error()
	if !strings.Contains(s, "kb/synonyms.yaml:3: a group needs at least two terms") {
		t.Errorf("missing group-size problem:\n%s", s)
	}
	if !strings.Contains(s, `kb/synonyms.yaml:4: term "owp" already`) {
		t.Errorf("missing duplicate-term problem:\n%s", s)
	}
}

func TestGoodFolderLoads(t *testing.T) {
	b, probs := load(t, map[string]string{"en/alpha.md": good, "synonyms.yaml": "en:\n  - [a, b c]\n", "domain.yaml": "en: [permit]\n", "extra.yaml": "x: 1\n"})
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	a := b.Article("en", "alpha")
	if a == nil || a.Body != "Body." || a.Title != "Alpha" {
		t.Fatalf("article not loaded right: %+v", a)
	}
	if b.Article("fr", "alpha") != a {
		t.Fatal("French lookup should fall back to English")
	}
	if string(b.Files["extra.yaml"]) != "x: 1\n" {
		t.Fatal("extra files not kept")
	}
}

func TestSections(t *testing.T) {
	a := &Article{Body: "Intro line.\n\n## Fees\n- $230\n- paid by the employer\n\n**Refunds**\n- refused: automatic\n\n## Empty\n"}
	ss := a.Sections()
	if len(ss) != 4 {
		t.Fatalf("got %d sections: %+v", len(ss), ss)
	}
	if ss[0].Heading != "" || ss[0].Text != "Intro line." {
		t.Errorf("preamble: %+v", ss[0])
	}
	if ss[1].Heading != "Fees" || !strings.Contains(ss[1].Text, "paid by the employer") || !strings.HasPrefix(ss[1].Text, "## Fees") {
		t.Errorf("fees: %+v", ss[1])
	}
	if ss[2].Heading != "Refunds" || !strings.Contains(ss[2].Text, "automatic") {
		t.Errorf("refunds: %+v", ss[2])
	}
	if ss[3].Heading != "Empty" {
		t.Errorf("empty: %+v", ss[3])
	}
}

// TestBrokenArticleHoldsBackFollowOns: an article file that cannot be
// parsed is reported once; the references to it elsewhere follow from it
// and are held back (counted), while other broken references still show.
func TestBrokenArticleHoldsBackFollowOns(t *testing.T) {
	withRelated := func(id, related string) string {
		s := strings.Replace(good, "id: alpha", "id: "+id, 1)
		return strings.Replace(s, "related: []", "related: ["+related+"]", 1)
	}
	b, probs := load(t, map[string]string{
		"en/alpha.md": strings.Replace(good, "related: []\n---", "related: []\n", 1), // front matter not closed
		"en/beta.md":  withRelated("beta", "alpha"),
		"en/gamma.md": withRelated("gamma", "alpha, ghost"),
	})
	if len(probs) != 2 {
		t.Fatalf("want the broken file's problem and the ghost reference, got %d:\n%v", len(probs), probs)
	}
	if !strings.HasPrefix(probs[0].String(), "kb/en/alpha.md:1: front matter not closed") ||
		!strings.Contains(probs[1].String(), `kb/en/gamma.md:12: related id "ghost" is not an article`) {
		t.Errorf("problems:\n%v", probs)
	}
	if b.HeldBack() != 2 || b.Broken("en", "alpha") != "kb/en/alpha.md" || b.Broken("fr", "alpha") != "kb/en/alpha.md" || b.Broken("en", "beta") != "" {
		t.Errorf("held back %d, broken alpha %q", b.HeldBack(), b.Broken("en", "alpha"))
	}
}

// TestLinkToBrokenArticleIsHeldBack: a body link to an article whose file
// cannot be parsed follows from that file's problem and is held back,
// while a link to an article that exists nowhere is still reported.
func TestLinkToBrokenArticleIsHeldBack(t *testing.T) {
	withBody := func(id, body string) string {
		s := strings.Replace(good, "id: alpha", "id: "+id, 1)
		return strings.Replace(s, "Body.", body, 1)
	}
	b, probs := load(t, map[string]string{
		"en/alpha.md": strings.Replace(good, "related: []\n---", "related: []\n", 1), // front matter not closed
		"en/beta.md":  withBody("beta", "See [Alpha](article:alpha)."),
		"en/gamma.md": withBody("gamma", "See [Ghost](article:ghost)."),
	})
	if len(probs) != 2 {
		t.Fatalf("want the broken file's problem and the ghost link, got %d:\n%v", len(probs), probs)
	}
	if !strings.HasPrefix(probs[0].String(), "kb/en/alpha.md:1: front matter not closed") ||
		!strings.Contains(probs[1].String(), `kb/en/gamma.md:14: link to unknown article "ghost"`) {
		t.Errorf("problems:\n%v", probs)
	}
	if b.HeldBack() != 1 {
		t.Errorf("held back %d, want 1 (beta's link to the broken alpha)", b.HeldBack())
	}
}
