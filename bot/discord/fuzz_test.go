package discord

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzFormatSplit: any Markdown formats and splits into non-empty parts
// within the limit, in valid UTF-8.
func FuzzFormatSplit(f *testing.F) {
	for _, s := range []string{
		"**IEC** pools open. See [the IEC page](https://www.canada.ca/iec) for details.",
		"@everyone <@123> <@&456> @here <#789>",
		"```go\nfunc main() {}\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |",
		"# H\n## H2\n- **bold _it_** ~~s~~ `c`",
		"👩‍👩‍👧‍👦🇨🇦 é\u0301 " + strings.Repeat("x", 50),
		"**unclosed `code [link](http://a",
	} {
		f.Add(s, 100)
	}
	f.Fuzz(func(t *testing.T, md string, limit int) {
		if limit < 0 {
			limit = -(limit + 1)
		}
		limit = 16 + limit%MaxMessage
		out := Format(md)
		for i, p := range Split(out, limit) {
			if n := u16len(p); n > limit || strings.TrimSpace(p) == "" {
				t.Fatalf("part %d of Split(Format(%q), %d) = %q: %d units", i, md, limit, p, n)
			}
			if utf8.ValidString(md) && !utf8.ValidString(p) {
				t.Fatalf("part %d of Split(Format(%q), %d) is not valid UTF-8: %q", i, md, limit, p)
			}
		}
	})
}
