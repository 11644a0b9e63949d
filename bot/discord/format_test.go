package discord

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestFormat(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"**Title**\nplain", "**Title**\nplain"},
		{"## Fees\nSome text", "**Fees**\nSome text"},
		{"#### Deep **heading** ###\nx", "**Deep heading**\nx"},
		{"#hashtag stays", "#hashtag stays"},
		{"| Stream | Fee |\n|---|---:|\n| IEC | $179 |", "Stream · Fee\nIEC · $179"},
		{"a\n\n---\n\nb", "a\n\nb"},
		{"+ one\n  + two", "- one\n  - two"},
		{"- [IEC](https://canada.ca/iec) and _italics_", "- [IEC](https://canada.ca/iec) and _italics_"},
		{"line<br>next", "line\nnext"},
		{"a\n\n\n\nb", "a\n\nb"},
		{"```\n# not a heading\n| not | a table |\n```", "```\n# not a heading\n| not | a table |\n```"},
	} {
		if got := Format(tc.in); got != tc.want {
			t.Errorf("Format(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

// checkChunks asserts the invariants of every split.
func checkChunks(t *testing.T, text string, chunks []string, limit int) {
	t.Helper()
	for i, c := range chunks {
		if n := u16len(c); n > limit {
			t.Errorf("chunk %d has %d units, over %d: %q", i, n, limit, c)
		}
		if strings.TrimSpace(c) == "" {
			t.Errorf("chunk %d is empty", i)
		}
		if utf8.ValidString(text) && !utf8.ValidString(c) {
			t.Errorf("chunk %d is not valid UTF-8: %q", i, c)
		}
	}
	if got, want := alnum(fenceRE.ReplaceAllString(strings.Join(chunks, " "), "")), alnum(fenceRE.ReplaceAllString(text, "")); got != want {
		t.Errorf("text changed by splitting:\n got %q\nwant %q", got, want)
	}
}

var fenceRE = regexp.MustCompile("```\\w*")

func alnum(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return -1
	}, s)
}

func TestSplitShortIsUnchanged(t *testing.T) {
	t.Parallel()
	s := "**Hello** [link](https://x.y) `code`"
	if got := Split(s, 2000); len(got) != 1 || got[0] != s {
		t.Errorf("Split = %q", got)
	}
	if got := Split("  \n ", 2000); got != nil {
		t.Errorf("Split(blank) = %q, want nil", got)
	}
}

func TestSplitPrefersParagraphs(t *testing.T) {
	t.Parallel()
	p := strings.TrimSpace(strings.Repeat("word ", 8)) // 39 characters
	// A paragraph break at 79 beats a line break at 94 and spaces at 98.
	text := p + " " + p + "\n\none two three\nfour five six seven eight nine ten eleven"
	got := Split(text, 100)
	checkChunks(t, text, got, 100)
	if got[0] != p+" "+p {
		t.Errorf("first chunk %q, want the first paragraph", got[0])
	}
	// A paragraph break too early (under half the limit) loses to a line break.
	text = p + "\n\n" + p + " end.\n" + p + "\n\n" + p
	got = Split(text, 100)
	checkChunks(t, text, got, 100)
	want := []string{p + "\n\n" + p + " end.", p + "\n\n" + p}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Split =\n%q\nwant\n%q", got, want)
	}
	// Lines before sentences before spaces.
	text = "alpha beta gamma. delta epsilon\nzeta eta theta iota kappa lambda mu"
	got = Split(text, 40)
	checkChunks(t, text, got, 40)
	if got[0] != "alpha beta gamma. delta epsilon" {
		t.Errorf("first chunk %q, want the first line", got[0])
	}
}

func TestSplitKeepsLinksAndCode(t *testing.T) {
	t.Parallel()
	link := "[the official IRCC page on this](https://www.canada.ca/en/ircc.html)"
	code := "`a long code span with spaces`"
	text := strings.Repeat("x ", 20) + link + " " + strings.Repeat("y ", 15) + code + " tail"
	for limit := 75; limit <= 120; limit++ {
		got := Split(text, limit)
		checkChunks(t, text, got, limit)
		joined := strings.Join(got, "\n")
		if !strings.Contains(joined, link) || !strings.Contains(joined, code) {
			t.Fatalf("limit %d: link or code span cut: %q", limit, got)
		}
	}
}

func TestSplitInsideBoldClosesAndReopens(t *testing.T) {
	t.Parallel()
	text := "Intro. **" + strings.TrimSpace(strings.Repeat("bold words here ", 12)) + "** after."
	got := Split(text, 60)
	checkChunks(t, text, got, 60)
	if len(got) < 3 {
		t.Fatalf("want several chunks, got %q", got)
	}
	for i, c := range got {
		if strings.Count(c, "**")%2 != 0 {
			t.Errorf("chunk %d has unbalanced bold: %q", i, c)
		}
	}
	if !strings.HasPrefix(got[1], "**") {
		t.Errorf("chunk 1 does not reopen bold: %q", got[1])
	}
	// A break outside the bold is preferred when there is one.
	text = strings.Repeat("a ", 25) + "**short bold** " + strings.Repeat("b ", 30)
	for _, c := range Split(text, 60) {
		if strings.Count(c, "**")%2 != 0 {
			t.Errorf("unbalanced bold in %q", c)
		}
	}
}

func TestSplitNestedEmphasis(t *testing.T) {
	t.Parallel()
	text := "**bold _" + strings.TrimSpace(strings.Repeat("nested italic ", 10)) + "_ still bold**"
	got := Split(text, 50)
	checkChunks(t, text, got, 50)
	for i, c := range got[1 : len(got)-1] {
		if !strings.HasPrefix(c, "**_") || !strings.HasSuffix(c, "_**") {
			t.Errorf("middle chunk %d does not close and reopen both: %q", i+1, c)
		}
	}
}

func TestSplitFencedCode(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("Example:\n```go\n")
	for i := range 30 {
		fmt.Fprintf(&b, "x%d := compute(%d) // step\n", i, i)
	}
	b.WriteString("```\nDone.")
	text := b.String()
	got := Split(text, 200)
	checkChunks(t, text, got, 200)
	for i, c := range got {
		if strings.Count(c, "```")%2 != 0 {
			t.Errorf("chunk %d has an unclosed fence: %q", i, c)
		}
		if i > 0 && strings.Contains(c, "compute") && !strings.HasPrefix(c, "```go\n") {
			t.Errorf("chunk %d does not reopen the fence with its language: %q", i, c)
		}
	}
}

func TestSplitLongWordAndLinkInside(t *testing.T) {
	t.Parallel()
	word := strings.Repeat("w", 100)
	got := Split(word, 30)
	checkChunks(t, word, got, 30)
	if strings.Join(got, "") != word {
		t.Errorf("hard cuts lost text: %q", got)
	}
	// A link glued to a long word moves whole to the next chunk.
	link := "[l](https://e.com/" + strings.Repeat("b", 10) + ")"
	text := strings.Repeat("a", 30) + link
	got = Split(text, 40)
	checkChunks(t, text, got, 40)
	if len(got) != 2 || got[1] != link {
		t.Errorf("Split = %q, want the link whole in the second chunk", got)
	}
}

func TestSplitCountsUTF16(t *testing.T) {
	t.Parallel()
	text := strings.Repeat("😀", 60) // 120 UTF-16 units
	got := Split(text, 20)
	checkChunks(t, text, got, 20)
	if len(got) != 6 {
		t.Errorf("%d chunks, want 6 of 10 emoji: %q", len(got), got)
	}
	text = strings.Repeat("é ", 40)
	checkChunks(t, text, Split(text, 17), 17)
}

// TestSplitRandomMarkdown checks the invariants on generated Markdown.
func TestSplitRandomMarkdown(t *testing.T) {
	t.Parallel()
	linkRE := regexp.MustCompile(`\[[^\]]*\]\([^)]*\)`)
	codeRE := regexp.MustCompile("`[^`]+`")
	r := rand.New(rand.NewPCG(1, 2))
	words := []string{"work", "permit", "IEC", "spouse", "employer", "fee", "$230", "C11", "open", "Canada", "été", "naïve", "🇨🇦"}
	for iter := range 300 {
		var b strings.Builder
		for range 5 + r.IntN(60) {
			switch r.IntN(12) {
			case 0:
				b.WriteString("\n\n")
			case 1:
				b.WriteString("\n- ")
			case 2:
				fmt.Fprintf(&b, "**%s %s** ", words[r.IntN(len(words))], words[r.IntN(len(words))])
			case 3:
				fmt.Fprintf(&b, "[%s %s](https://www.canada.ca/%d) ", words[r.IntN(len(words))], words[r.IntN(len(words))], r.IntN(1000))
			case 4:
				fmt.Fprintf(&b, "`%s %s` ", words[r.IntN(len(words))], words[r.IntN(len(words))])
			case 5:
				fmt.Fprintf(&b, "_%s_. ", words[r.IntN(len(words))])
			default:
				b.WriteString(words[r.IntN(len(words))] + " ")
			}
		}
		text := b.String()
		for _, limit := range []int{40, 80, 200} {
			got := Split(text, limit)
			checkChunks(t, text, got, limit)
			joined := strings.Join(got, "\n")
			for _, l := range append(linkRE.FindAllString(text, -1), codeRE.FindAllString(text, -1)...) {
				if u16len(l) <= limit && !strings.Contains(joined, l) {
					t.Fatalf("iteration %d, limit %d: %q was cut:\n%q", iter, limit, l, got)
				}
			}
			for i, c := range got {
				if strings.Count(c, "**")%2 != 0 {
					t.Fatalf("iteration %d, limit %d: chunk %d has unbalanced bold: %q", iter, limit, i, c)
				}
			}
		}
	}
}

func FuzzSplit(f *testing.F) {
	f.Add("**bold [link](https://x.y) `code`** and _it_ ~~s~~ ||sp||\n\n```\ncode\n```", 40)
	f.Add(strings.Repeat("😀a ", 50), 16)
	f.Fuzz(func(t *testing.T, text string, limit int) {
		if limit < 40 || limit > 4000 || !utf8.ValidString(text) {
			return
		}
		got := Split(text, limit)
		for i, c := range got {
			if u16len(c) > limit {
				t.Fatalf("chunk %d has %d units, over %d", i, u16len(c), limit)
			}
			if !utf8.ValidString(c) {
				t.Fatalf("chunk %d is not valid UTF-8", i)
			}
		}
		if alnum(strings.Join(got, "")) != alnum(text) {
			t.Fatalf("text changed by splitting")
		}
	})
}

func BenchmarkSplitLongAnswer(b *testing.B) {
	text := strings.Repeat("**IEC** pools open in the fall. See [the IEC page](https://www.canada.ca/iec) for details. "+
		"Bring `IMM 5707` and _proof of funds_.\n\n", 40)
	for b.Loop() {
		Split(text, MaxMessage)
	}
}

// TestFormatFromTheTree: what the shared parse adds: escaped literal
// formatting characters, unsafe links reduced to their label, lists right
// under their paragraph, quotes, italics inside a word.
func TestFormatFromTheTree(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{`\*not bold\* and snake\_case`, `\*not bold\* and snake\_case`},
		{"2 * 3 * 4", `2 \* 3 \* 4`},
		{"[click](javascript:alert(1))", "click"},
		{"<https://canada.ca>", "<https://canada.ca>"},
		{"Conditions:\n- a\n- b", "Conditions:\n- a\n- b"},
		{"> said\n> more", "> said\n> more"},
		{"un*frigging*believable", "un*frigging*believable"},
		{"3. three\n4. four", "3. three\n4. four"},
		{"`a` and ``b`c``", "`a` and ``b`c``"},
	} {
		if got := Format(tc.in); got != tc.want {
			t.Errorf("Format(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}
