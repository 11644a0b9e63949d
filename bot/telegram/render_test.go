package telegram

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/impbot/impbot/bot/telegram/telegramtest"
)

func TestRenderFormatting(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, in, want string }{
		{"bold and italic", "**Title**\n_note_ and *em*", "<b>Title</b>\n<i>note</i> and <i>em</i>"},
		{"heading", "# Fees\n\nText", "<b>Fees</b>\n\nText"},
		{"code", "Pay `$179 & more` now", "Pay <code>$179 &amp; more</code> now"},
		{"fenced code", "```go\nx := a < b\n```", `<pre><code class="language-go">x := a &lt; b</code></pre>`},
		{"indented code", "    a > b", "<pre>a &gt; b</pre>"},
		{"link", "[IRCC](https://www.canada.ca/en?a=1&b=2)", `<a href="https://www.canada.ca/en?a=1&amp;b=2">IRCC</a>`},
		{"autolink", "<https://canada.ca>", `<a href="https://canada.ca">https://canada.ca</a>`},
		{"email autolink", "<help@example.org>", `<a href="mailto:help@example.org">help@example.org</a>`},
		{"unsafe link", "[click](javascript:alert(1))", "click"},
		{"relative link", "[doc](/etc/passwd)", "doc"},
		{"bullets", "- one\n- two", "• one\n• two"},
		{"numbers", "3. three\n4. four", "3. three\n4. four"},
		{"nested", "- a\n  - b\n- c", "• a\n   • b\n• c"},
		{"quote", "> said\n> more", "<blockquote>said\nmore</blockquote>"},
		{"strike", "~~old~~ new", "<s>old</s> new"},
		{"raw html escaped", "a <b>x</b> & <script>y</script>", "a &lt;b&gt;x&lt;/b&gt; &amp; &lt;script&gt;y&lt;/script&gt;"},
		{"html block escaped", "<div>\nhi\n</div>", "&lt;div&gt;\nhi\n&lt;/div&gt;"},
		{"backslash escapes", `\*not\* \_em\_`, "*not* _em_"},
		{"entities", "&amp; &copy; &#x1F600;", "&amp; © 😀"},
		{"quotes", `say "hi"`, "say &quot;hi&quot;"},
		{"image", "![map](https://x.org/m.png)", `<a href="https://x.org/m.png">map</a>`},
		{"rule", "a\n\n---\n\nb", "a\n\n——————\n\nb"},
		{"empty", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Render(c.in)
			if got != c.want {
				t.Errorf("Render(%q)\n got %q\nwant %q", c.in, got, c.want)
			}
			if err := telegramtest.CheckHTML(got); err != nil {
				t.Errorf("Telegram would refuse %q: %v", got, err)
			}
		})
	}
}

func TestRenderEscapesEverything(t *testing.T) {
	t.Parallel()
	nasty := []string{
		"<", ">", "&", "&&", "a<b>c", "</b>", "<a href=\"x\">", "&lt;", "&#0;", "&#xD800;", "&bogus;", "\x00",
		"**<i>**", "[<b>](https://x.org/\"><script>)", "`</code>`", "```\n</pre>\n```", "> <blockquote>",
		"- <li>", "\xff\xfe invalid utf-8", "[x](https://a.b/?q=<>\"')",
	}
	for _, in := range nasty {
		out := Render(in)
		if err := telegramtest.CheckHTML(out); err != nil {
			t.Errorf("Render(%q) = %q: %v", in, out, err)
		}
		if !utf8.ValidString(out) {
			t.Errorf("Render(%q) is not valid UTF-8", in)
		}
	}
}

func TestRenderArticleShape(t *testing.T) {
	t.Parallel()
	md := "**Open work permits for spouses**\nSpouses of skilled workers may get an open permit.\n\n" +
		"- **Who**: spouses & partners\n- **Cost**: `$255`\n\nSources: [canada.ca](https://www.canada.ca/x) · [canada.ca](https://www.canada.ca/y)\n" +
		"_Reviewed 2026-11-25. General information, not legal advice._"
	want := "<b>Open work permits for spouses</b>\nSpouses of skilled workers may get an open permit.\n\n" +
		"• <b>Who</b>: spouses &amp; partners\n• <b>Cost</b>: <code>$255</code>\n\n" +
		`Sources: <a href="https://www.canada.ca/x">canada.ca</a> · <a href="https://www.canada.ca/y">canada.ca</a>` + "\n" +
		"<i>Reviewed 2026-11-25. General information, not legal advice.</i>"
	if got := Render(md); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestVisibleLen(t *testing.T) {
	t.Parallel()
	cases := map[string]int{
		"":                              0,
		"abc":                           3,
		"<b>abc</b>":                    3,
		"a &amp; b":                     5,
		"&lt;&gt;&quot;":                3,
		"é":                             1, // one UTF-16 unit, two bytes
		"😀":                             2, // a surrogate pair
		"&#128512;":                     2,
		`<a href="https://x.org">x</a>`: 1,
	}
	for in, want := range cases {
		if got := VisibleLen(in); got != want {
			t.Errorf("VisibleLen(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestSplitShortIsOnePart(t *testing.T) {
	t.Parallel()
	in := Render("**Hi**\n\nA short answer.")
	parts := Split(in, MaxMessageLen)
	if len(parts) != 1 || parts[0] != in {
		t.Fatalf("Split = %q", parts)
	}
}

func TestSplitAtParagraphs(t *testing.T) {
	t.Parallel()
	p := func(c string, n int) string { return strings.TrimSpace(strings.Repeat(c+"word ", n)) }
	paras := []string{p("a", 300), p("b", 300), p("c", 300), p("d", 300)} // 1,799 characters each
	in := strings.Join(paras, "\n\n")
	parts := Split(Render(in), MaxMessageLen)
	want := []string{paras[0] + "\n\n" + paras[1], paras[2] + "\n\n" + paras[3]}
	if len(parts) != len(want) {
		t.Fatalf("got %d parts, want %d", len(parts), len(want))
	}
	for i := range want {
		if parts[i] != want[i] {
			t.Errorf("part %d is not whole paragraphs: %q…", i, parts[i][:40])
		}
	}
}

func TestSplitPrefersParagraphOverLine(t *testing.T) {
	t.Parallel()
	in := strings.Repeat("x", 30) + "\n\n" + strings.Repeat("line\n", 20)
	parts := Split(in, 60)
	if parts[0] != strings.Repeat("x", 30) {
		t.Errorf("first part %q, want the first paragraph", parts[0])
	}
	checkParts(t, in, parts, 60)
}

func TestSplitLongLineMultiByte(t *testing.T) {
	t.Parallel()
	// No space at all: a hard cut is needed, on character boundaries.
	in := strings.Repeat("é日😀", 3000) // 4 UTF-16 units per repetition
	parts := Split(escape(in), MaxMessageLen)
	if len(parts) != 3 {
		t.Fatalf("got %d parts, want 3", len(parts))
	}
	checkParts(t, in, parts, MaxMessageLen)
	if got := strings.Join(parts, ""); got != in {
		t.Error("the parts do not add up to the text")
	}
}

func TestSplitCountsUTF16(t *testing.T) {
	t.Parallel()
	// 3,000 characters but 6,000 UTF-16 units: Telegram would refuse it whole.
	in := strings.Repeat("😀", 3000)
	if n := utf8.RuneCountInString(in); n > MaxMessageLen {
		t.Fatal("test text too long")
	}
	parts := Split(in, MaxMessageLen)
	if len(parts) != 2 {
		t.Fatalf("got %d parts, want 2", len(parts))
	}
	for _, p := range parts {
		if n := len(utf16.Encode([]rune(p))); n > MaxMessageLen {
			t.Errorf("part has %d UTF-16 units", n)
		}
	}
}

func TestSplitKeepsTagsBalanced(t *testing.T) {
	t.Parallel()
	in := "<b>" + strings.Repeat("bold words here ", 600) + "</b>\n\n<pre>" + strings.Repeat("code line &lt;x&gt;\n", 400) + "</pre>"
	parts := Split(in, 1000)
	if len(parts) < 10 {
		t.Fatalf("got %d parts", len(parts))
	}
	checkParts(t, PlainText(in), parts, 1000)
	for _, p := range parts[:4] {
		if !strings.HasPrefix(p, "<b>") || !strings.HasSuffix(p, "</b>") {
			t.Errorf("bold part not wrapped: %q…%q", p[:10], p[len(p)-10:])
		}
	}
	last := parts[len(parts)-1]
	if !strings.HasPrefix(last, "<pre>") || !strings.HasSuffix(last, "</pre>") {
		t.Errorf("code part not wrapped: %q", last)
	}
}

func TestSplitLinkAcrossCut(t *testing.T) {
	t.Parallel()
	in := `<a href="https://example.org/a?b=1&amp;c=2">` + strings.Repeat("w", 50) + "</a>"
	parts := Split(in, 20)
	checkParts(t, PlainText(in), parts, 20)
	for _, p := range parts {
		if !strings.HasPrefix(p, `<a href="https://example.org/a?b=1&amp;c=2">`) {
			t.Errorf("link not reopened: %q", p)
		}
	}
}

func TestSplitKeepsEmojiSequences(t *testing.T) {
	t.Parallel()
	family := "👨\u200d👩\u200d👧" // one glyph, 8 UTF-16 units
	flag := "🇨🇦"                // two regional indicators
	in := strings.Repeat(family+flag+"é\u0301", 800)
	for _, limit := range []int{17, 100, 4096} {
		parts := Split(in, limit)
		checkParts(t, in, parts, limit)
		for _, p := range parts {
			r, _ := utf8.DecodeRuneInString(p)
			if r == 0x200d || r == 0x301 {
				t.Fatalf("limit %d: part starts inside a sequence: %q", limit, p[:8])
			}
			if strings.HasSuffix(p, "\u200d") {
				t.Fatalf("limit %d: part ends with a joiner", limit)
			}
			if n := strings.Count(p, "🇨") + strings.Count(p, "🇦"); n%2 != 0 {
				t.Fatalf("limit %d: a flag was cut in half", limit)
			}
		}
	}
}

func TestSplitRandomized(t *testing.T) {
	t.Parallel()
	pieces := []string{"word ", "**bold** ", "_it_ ", "`co<de>` ", "[link](https://x.org/?a=1&b=2) ", "é", "日本", "😀",
		"\n", "\n\n", "- item\n", "1. num\n", "> quote\n\n", "```\ncode & more\n```\n", "&amp; ", "<raw> ", "    indented\n\n",
		"👨\u200d👩\u200d👧", "🇫🇷", strings.Repeat("long", 40)}
	rng := rand.New(rand.NewPCG(1, 2))
	texts := 300
	if raceBuild {
		texts = 100 // the first 100 of the same sequence; CI checks all 300 without -race
	}
	for i := 0; i < texts; i++ {
		var b strings.Builder
		for n := rng.IntN(400); n > 0; n-- {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		html := Render(b.String())
		if err := telegramtest.CheckHTML(html); err != nil {
			t.Fatalf("Render produced bad HTML for %q: %v", b.String(), err)
		}
		limit := 8 + rng.IntN(300)
		checkParts(t, PlainText(html), Split(html, limit), limit)
	}
}

func FuzzSplit(f *testing.F) {
	f.Add("**a** b\n\nc `d`", 10)
	f.Add(strings.Repeat("😀é", 50), 9)
	f.Add("<b>x & y</b>", 8)
	f.Fuzz(func(t *testing.T, md string, limit int) {
		if limit < 8 || limit > 5000 {
			return
		}
		html := Render(md)
		if err := telegramtest.CheckHTML(html); err != nil {
			t.Fatalf("bad HTML %q: %v", html, err)
		}
		checkParts(t, PlainText(html), Split(html, limit), limit)
	})
}

// checkParts checks that every part is valid Telegram HTML within the
// limit, and that together they hold all the visible text (whitespace at
// the cuts aside).
func checkParts(t *testing.T, plain string, parts []string, limit int) {
	t.Helper()
	var got strings.Builder
	for i, p := range parts {
		if err := telegramtest.CheckHTML(p); err != nil {
			t.Fatalf("part %d is not valid Telegram HTML: %v\n%q", i, err, p)
		}
		if n := VisibleLen(p); n > limit || n == 0 {
			t.Fatalf("part %d has visible length %d (limit %d)", i, n, limit)
		}
		if !utf8.ValidString(p) {
			t.Fatalf("part %d is not valid UTF-8", i)
		}
		got.WriteString(PlainText(p))
	}
	strip := func(s string) string {
		return strings.Map(func(r rune) rune {
			if unicode.IsSpace(r) {
				return -1
			}
			return r
		}, s)
	}
	if strip(got.String()) != strip(plain) {
		t.Fatalf("parts lost or changed text:\n got %q\nwant %q", strip(got.String()), strip(plain))
	}
}

func BenchmarkRenderAndSplit(b *testing.B) {
	para := "**Working Holiday**: open work permit, no job offer needed; see [IEC](https://www.canada.ca/iec) & `C21`. "
	md := strings.Repeat(strings.Repeat(para, 8)+"\n\n- one\n- two 😀\n\n", 10) // ~9,000 characters
	b.SetBytes(int64(len(md)))
	for b.Loop() {
		_ = Split(Render(md), MaxMessageLen)
	}
}
