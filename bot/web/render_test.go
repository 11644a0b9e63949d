package web

import (
	"strings"
	"testing"
)

func TestRenderHTMLSafe(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in      string
		want, notWant []string
	}{
		{"raw html dropped", "Hi <img src=x onerror=window.pwned=1> <script>alert(1)</script>",
			[]string{"Hi"}, []string{"<img", "<script"}},
		{"html block dropped", "<div onclick=x>block</div>\n\ntext", []string{"text"}, []string{"<div", "onclick"}},
		{"http link kept with rel", "[IRCC](https://www.canada.ca/en.html)",
			[]string{`href="https://www.canada.ca/en.html"`, `rel="noopener noreferrer"`, `target="_blank"`, ">IRCC</a>"}, nil},
		{"javascript link unwrapped", "[click](javascript:alert(1)) end",
			[]string{"click", "end"}, []string{"<a", "javascript"}},
		{"data link unwrapped", "[x](data:text/html;base64,AAAA)", []string{"x"}, []string{"<a", "data:"}},
		{"relative link unwrapped", "[art](/other) ok", []string{"art", "ok"}, []string{"<a"}},
		{"autolink http", "<https://www.canada.ca/x>", []string{`href="https://www.canada.ca/x"`, `rel="noopener noreferrer"`}, nil},
		{"autolink email unwrapped", "<a@b.example>", []string{"a@b.example"}, []string{"<a", "mailto"}},
		{"image to alt text", "![logo](https://evil.example/p.png)", []string{"logo"}, []string{"<img", "evil.example"}},
		{"bold and hard wraps", "**Title**\nSummary", []string{"<strong>Title</strong><br>", "Summary"}, nil},
		{"entities escaped", "a < b & c", []string{"a &lt; b &amp; c"}, nil},
		{"table without inline styles", "| fee | amount |\n|:--|--:|\n| compliance | $230 |", []string{"<table>", "<td align=\"right\">$230</td>"}, []string{"style="}},
		{"strikethrough", "~~old~~ new", []string{"<del>old</del>"}, nil},
	}
	for _, c := range cases {
		got := RenderHTML(c.in)
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %q lacks %q", c.name, got, w)
			}
		}
		for _, w := range c.notWant {
			if strings.Contains(got, w) {
				t.Errorf("%s: %q contains %q", c.name, got, w)
			}
		}
	}
}
