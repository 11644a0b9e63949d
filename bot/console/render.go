package console

import (
	"os"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/impbot/impbot/bot/markdown"
)

// Style says how the terminal shows text.
type Style struct {
	// Width wraps lines to this many columns (0: no wrapping).
	Width int
	// Color turns on ANSI styles: bold titles, italic and dim notes.
	Color bool
}

// TerminalStyle is the style for out: its width and ANSI styles when out is
// a terminal (no styles when NO_COLOR is set or TERM is dumb), else no
// wrapping and no styles.
func TerminalStyle(out any) Style {
	f, ok := out.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return Style{}
	}
	w, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		w = 0
	}
	return ttyStyle(w, os.Getenv)
}

// ttyStyle is the style of a terminal w columns wide (0: unknown).
func ttyStyle(w int, getenv func(string) string) Style {
	st := Style{Width: w, Color: getenv("NO_COLOR") == "" && getenv("TERM") != "dumb"}
	if st.Width <= 0 {
		st.Width = 80
		if n, err := strconv.Atoi(getenv("COLUMNS")); err == nil && n > 0 {
			st.Width = n
		}
	}
	st.Width = min(st.Width, 100) // longer lines are hard to read
	return st
}

// Plain renders the bot's Markdown for a terminal without styles or
// wrapping.
func Plain(md string) string { return Render(md, Style{}) }

// Render renders the bot's Markdown for a terminal: bold titles, bullet
// lists, links as "label <address>", wrapped to st.Width.
func Render(md string, st Style) string {
	r := &renderer{st: st}
	r.blocks(markdown.Parse(md), "", "")
	return strings.TrimRight(r.b.String(), "\n ")
}

// ANSI styles.
type style uint8

const (
	bold style = 1 << iota
	italic
	dim
)

func (s style) codes() string {
	var c []string
	if s&bold != 0 {
		c = append(c, "1")
	}
	if s&dim != 0 {
		c = append(c, "2")
	}
	if s&italic != 0 {
		c = append(c, "3")
	}
	return "\x1b[" + strings.Join(c, ";") + "m"
}

// piece is text in one style.
type piece struct {
	text string
	st   style
}

type renderer struct {
	st  Style
	b   strings.Builder
	cur style // the ANSI style in effect on the current line
}

// blocks writes blocks separated by blank lines; first prefixes the first
// line, rest the others (list bullets and indents, quote bars).
func (r *renderer) blocks(bs []markdown.Block, first, rest string) {
	for i, b := range bs {
		if i > 0 {
			if b.Blank || b.Kind != markdown.List {
				r.b.WriteString(strings.TrimRight(rest, " ") + "\n")
			}
			first = rest
		}
		r.block(b, first, rest)
	}
}

func (r *renderer) block(b markdown.Block, first, rest string) {
	switch b.Kind {
	case markdown.Paragraph:
		r.wrap(r.pieces(b.Inlines, 0), first, rest)
	case markdown.Heading:
		r.wrap(r.pieces(b.Inlines, bold), first, rest)
	case markdown.Rule:
		r.b.WriteString(first + strings.Repeat("─", 12) + "\n")
	case markdown.Code, markdown.HTML:
		for i, l := range strings.Split(b.Text, "\n") {
			p := rest
			if i == 0 {
				p = first
			}
			r.b.WriteString(p + "    " + l + "\n")
		}
	case markdown.Quote:
		r.blocks(b.Blocks, first+"│ ", rest+"│ ")
	case markdown.List:
		n := b.Start
		for i, item := range b.Items {
			bullet := "  • "
			if b.Ordered {
				bullet = strconv.Itoa(n) + ". "
				if len(bullet) < 4 {
					bullet = strings.Repeat(" ", 4-len(bullet)) + bullet
				}
				n++
			}
			p := rest
			if i == 0 {
				p = first
			}
			r.blocks(item, p+bullet, rest+strings.Repeat(" ", utf8.RuneCountInString(bullet)))
		}
	case markdown.Table:
		for i, row := range b.Rows {
			var ps []piece
			for j, cell := range row {
				if j > 0 {
					ps = append(ps, piece{" · ", 0})
				}
				var st style
				if i == 0 {
					st = bold
				}
				ps = append(ps, r.pieces(cell, st)...)
			}
			p := rest
			if i == 0 {
				p = first
			}
			r.wrap(ps, p, rest)
		}
	}
}

// pieces flattens inline spans into styled text.
func (r *renderer) pieces(in []markdown.Inline, st style) []piece {
	var out []piece
	for _, s := range in {
		switch s.Kind {
		case markdown.Text, markdown.RawHTML:
			out = append(out, piece{s.Text, st})
		case markdown.CodeSpan:
			out = append(out, piece{s.Text, st})
		case markdown.LineBreak:
			out = append(out, piece{"\n", st})
		case markdown.Strong:
			out = append(out, r.pieces(s.Children, st|bold)...)
		case markdown.Emphasis:
			// Notes (the not-legal-advice notice) are italics: dim them.
			out = append(out, r.pieces(s.Children, st|italic|dim)...)
		case markdown.Strike:
			out = append(out, r.pieces(s.Children, st)...)
		case markdown.Link:
			label := markdown.PlainText(s.Children)
			switch {
			case label == "" || label == s.URL || "mailto:"+label == s.URL:
				out = append(out, piece{strings.TrimPrefix(s.URL, "mailto:"), st})
			default:
				out = append(out, r.pieces(s.Children, st)...)
				out = append(out, piece{" <" + s.URL + ">", st | dim})
			}
		}
	}
	return out
}

// word is a run of pieces without spaces.
type word struct {
	ps    []piece
	width int
}

// wrap writes pieces as lines of at most r.st.Width columns (a word longer
// than that stands alone); first prefixes the first line, rest the others.
func (r *renderer) wrap(ps []piece, first, rest string) {
	// Split into lines (hard breaks), then words.
	var lines [][]word
	var cur []word
	var w word
	inWord := false
	flushWord := func() {
		if inWord {
			cur = append(cur, w)
		}
		w, inWord = word{}, false
	}
	for _, p := range ps {
		start := 0
		for i, c := range p.text {
			if c == ' ' || c == '\n' || c == '\t' {
				if i > start {
					w.ps = append(w.ps, piece{p.text[start:i], p.st})
					w.width += textWidth(p.text[start:i])
					inWord = true
				}
				flushWord()
				if c == '\n' {
					lines = append(lines, cur)
					cur = nil
				}
				start = i + 1
			}
		}
		if start < len(p.text) {
			w.ps = append(w.ps, piece{p.text[start:], p.st})
			w.width += textWidth(p.text[start:])
			inWord = true
		}
	}
	flushWord()
	lines = append(lines, cur)

	prefix := first
	for _, words := range lines {
		col := textWidth(prefix)
		r.b.WriteString(prefix)
		prefix = rest
		for i, wd := range words {
			if i > 0 {
				// French punctuation stays with the word before it.
				glue := len(wd.ps) == 1 && isTightPunct(wd.ps[0].text)
				if r.st.Width > 0 && col+1+wd.width > r.st.Width && col > textWidth(rest) && !glue {
					r.endLine()
					r.b.WriteString(rest)
					col = textWidth(rest)
				} else {
					r.b.WriteByte(' ')
					col++
				}
			}
			for _, p := range wd.ps {
				r.write(p)
			}
			col += wd.width
		}
		r.endLine()
	}
}

// write writes a piece, changing the ANSI style only where it changes.
func (r *renderer) write(p piece) {
	if r.st.Color && p.st != r.cur {
		if r.cur != 0 {
			r.b.WriteString("\x1b[0m")
		}
		if p.st != 0 {
			r.b.WriteString(p.st.codes())
		}
		r.cur = p.st
	}
	r.b.WriteString(p.text)
}

// endLine resets the style (no style spills into the prompt or the next
// line's prefix) and ends the line.
func (r *renderer) endLine() {
	if r.cur != 0 {
		r.b.WriteString("\x1b[0m")
		r.cur = 0
	}
	r.b.WriteByte('\n')
}

// isTightPunct reports punctuation that French sets after a space but that
// must not start a line: "?", "!", ":", ";", "»".
func isTightPunct(s string) bool {
	switch s {
	case "?", "!", ":", ";", "»", "?**", "!»", "?»":
		return true
	}
	return false
}

// textWidth is the number of columns s takes: wide (East Asian, emoji)
// characters take two, combining marks none.
func textWidth(s string) int {
	n := 0
	for _, c := range s {
		switch {
		case unicode.Is(unicode.Mn, c) || unicode.Is(unicode.Me, c) || c == 0x200D || (c >= 0xFE00 && c <= 0xFE0F):
		case c >= 0x1100 && (c <= 0x115F || (c >= 0x2E80 && c <= 0xA4CF) || (c >= 0xAC00 && c <= 0xD7A3) ||
			(c >= 0xF900 && c <= 0xFAFF) || (c >= 0xFF00 && c <= 0xFF60) || (c >= 0x1F300 && c <= 0x1FAFF) || (c >= 0x20000 && c <= 0x3FFFD)):
			n += 2
		default:
			n++
		}
	}
	return n
}
