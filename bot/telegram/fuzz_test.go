package telegram_test

import (
	"testing"
	"unicode/utf8"

	"github.com/impbot/impbot/bot/telegram"
	"github.com/impbot/impbot/bot/telegram/telegramtest"
)

// FuzzRenderSplit: any Markdown renders to HTML Telegram accepts, and the
// splitter cuts it into parts that are each valid and within the limit.
func FuzzRenderSplit(f *testing.F) {
	for _, s := range []string{
		"**IEC** pools: see [the page](https://www.canada.ca/iec) & <b>more</b>",
		"# Title\n\n- one\n- two **bold _both_**\n\n1. first\n2. second\n\n> quote\n\n`code` ```\nblock\n```",
		"a < b > c & d \"e\" 'f'",
		"👩‍👩‍👧‍👦 emoji sequence 🇨🇦 flag é\u0301",
		"[x](javascript:alert(1)) <script>alert(1)</script>",
		"**unclosed _nested ~~ [link](http://a",
		"\x00\xff\xfe invalid utf8",
	} {
		f.Add(s, 64)
	}
	f.Fuzz(func(t *testing.T, md string, limit int) {
		limit = 8 + abs(limit)%4096
		html := telegram.Render(md)
		if err := telegramtest.CheckHTML(html); err != nil {
			t.Fatalf("Render(%q) = %q: %v", md, html, err)
		}
		if !utf8.ValidString(html) {
			t.Fatalf("Render(%q) is not valid UTF-8", md)
		}
		for i, p := range telegram.Split(html, limit) {
			if err := telegramtest.CheckHTML(p); err != nil {
				t.Fatalf("part %d of Split(%q, %d) = %q: %v", i, html, limit, p, err)
			}
			if n := telegram.VisibleLen(p); n > limit || n == 0 {
				t.Fatalf("part %d of Split(%q, %d) has %d visible units", i, html, limit, n)
			}
		}
		if err := telegramtest.CheckHTML(telegram.Escape(md)); err != nil {
			t.Fatalf("Escape(%q): %v", md, err)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		if n == -n { // the smallest int
			return 0
		}
		return -n
	}
	return n
}
