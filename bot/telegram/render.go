package telegram

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/impbot/impbot/bot/markdown"
)

// MaxMessageLen is Telegram's limit on a message's text after entity
// parsing, in UTF-16 code units.
const MaxMessageLen = 4096

// Render converts the bot's Markdown (bold, italics, links, lists, code,
// quotes) to the HTML subset Telegram accepts with parse_mode HTML, from the
// tree bot/markdown parses. Every piece of text is escaped; raw HTML in the
// input is shown as text, and only http(s), tg and mailto links become
// links.
func Render(md string) string {
	r := &tgRenderer{}
	r.blocks(markdown.Parse(md), "\n\n", "")
	return strings.TrimSpace(r.buf.String())
}

type tgRenderer struct {
	buf bytes.Buffer
}

// blocks renders blocks separated by sep; indent prefixes continuation
// lines of nested lists.
func (r *tgRenderer) blocks(bs []markdown.Block, sep, indent string) {
	first := true
	for _, b := range bs {
		start := r.buf.Len()
		if !first {
			r.buf.WriteString(sep)
		}
		mark := r.buf.Len()
		r.block(b, indent)
		if r.buf.Len() == mark { // nothing rendered: drop the separator too
			r.buf.Truncate(start)
			continue
		}
		first = false
	}
}

func (r *tgRenderer) block(b markdown.Block, indent string) {
	switch b.Kind {
	case markdown.Paragraph:
		r.inlines(b.Inlines)
	case markdown.Heading:
		r.buf.WriteString("<b>")
		r.inlines(b.Inlines)
		r.buf.WriteString("</b>")
	case markdown.Rule:
		r.buf.WriteString("——————")
	case markdown.Code:
		lang := codeLang.FindString(b.Lang)
		if lang != "" {
			r.buf.WriteString(`<pre><code class="language-` + lang + `">`)
		} else {
			r.buf.WriteString("<pre>")
		}
		r.buf.WriteString(escape(b.Text))
		if lang != "" {
			r.buf.WriteString("</code>")
		}
		r.buf.WriteString("</pre>")
	case markdown.HTML:
		r.buf.WriteString(escape(b.Text))
	case markdown.Quote:
		r.buf.WriteString("<blockquote>")
		r.blocks(b.Blocks, "\n", "")
		r.buf.WriteString("</blockquote>")
	case markdown.List:
		num := b.Start
		for i, item := range b.Items {
			if i > 0 {
				r.buf.WriteString("\n" + indent)
			}
			bullet := "• "
			if b.Ordered {
				bullet = strconv.Itoa(num) + ". "
				num++
			}
			r.buf.WriteString(bullet)
			r.blocks(item, "\n"+indent+"   ", indent+"   ")
		}
	case markdown.Table:
		// Telegram has no tables: one line per row, cells joined.
		for i, row := range b.Rows {
			if i > 0 {
				r.buf.WriteString("\n" + indent)
			}
			if i == 0 {
				r.buf.WriteString("<b>")
			}
			for j, cell := range row {
				if j > 0 {
					r.buf.WriteString(" · ")
				}
				r.inlines(cell)
			}
			if i == 0 {
				r.buf.WriteString("</b>")
			}
		}
	}
}

var codeLang = regexp.MustCompile(`^[A-Za-z0-9_+#.-]{1,32}$`)

func (r *tgRenderer) inlines(in []markdown.Inline) {
	for _, s := range in {
		r.inline(s)
	}
}

func (r *tgRenderer) inline(s markdown.Inline) {
	switch s.Kind {
	case markdown.Text:
		r.buf.WriteString(escapeText(s.Text))
	case markdown.RawHTML:
		r.buf.WriteString(escape(s.Text))
	case markdown.LineBreak:
		r.buf.WriteByte('\n')
	case markdown.CodeSpan:
		r.buf.WriteString("<code>" + escape(s.Text) + "</code>")
	case markdown.Strong:
		r.wrap("b", s.Children)
	case markdown.Emphasis:
		r.wrap("i", s.Children)
	case markdown.Strike:
		r.wrap("s", s.Children)
	case markdown.Link:
		if !markdown.SafeURL(s.URL) {
			r.inlines(s.Children)
			return
		}
		r.buf.WriteString(`<a href="` + escapeAttr(s.URL) + `">`)
		mark := r.buf.Len()
		r.inlines(s.Children)
		if r.buf.Len() == mark { // empty label: show the address
			r.buf.WriteString(escape(s.URL))
		}
		r.buf.WriteString("</a>")
	}
}

func (r *tgRenderer) wrap(tag string, in []markdown.Inline) {
	r.buf.WriteString("<" + tag + ">")
	r.inlines(in)
	r.buf.WriteString("</" + tag + ">")
}

// escapeText escapes text for Telegram HTML, quotes included.
func escapeText(s string) string {
	return strings.ReplaceAll(escape(s), `"`, "&quot;")
}

// escape escapes text for Telegram HTML.
func escape(s string) string {
	if !strings.ContainsAny(s, "&<>") {
		return s
	}
	var b strings.Builder
	for _, c := range s {
		switch c {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// Escape escapes plain text (e.g. a user's or a staff member's message) for
// Telegram HTML.
func Escape(s string) string { return escape(strings.ToValidUTF8(s, "\uFFFD")) }

func escapeAttr(s string) string {
	return strings.ReplaceAll(escape(s), `"`, "&quot;")
}

// token is one indivisible piece of rendered HTML: a tag, an entity or one
// character of text.
type token struct {
	raw   string
	width int    // visible length in UTF-16 code units
	r     rune   // the visible character (text and entities)
	tag   string // tag name for tags
	close bool   // closing tag
}

func (t token) isTag() bool { return t.tag != "" }

// tokenize splits Telegram HTML produced by Render into tokens. It tolerates
// malformed input: a stray '<' or '&' is treated as text.
func tokenize(s string) []token {
	toks := make([]token, 0, len(s))
	for i := 0; i < len(s); {
		switch s[i] {
		case '<':
			if j := strings.IndexByte(s[i:], '>'); j > 1 {
				raw := s[i : i+j+1]
				if name := tagName(raw); name != "" {
					toks = append(toks, token{raw: raw, tag: name, close: raw[1] == '/'})
					i += j + 1
					continue
				}
			}
		case '&':
			if j := strings.IndexByte(s[i:], ';'); j > 1 && j < 12 {
				raw := s[i : i+j+1]
				if r, ok := decodeEntity(raw); ok {
					toks = append(toks, token{raw: raw, width: utf16Len(r), r: r})
					i += j + 1
					continue
				}
			}
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		raw := s[i : i+n]
		if r == utf8.RuneError && n == 1 {
			r, raw = '\uFFFD', "\uFFFD"
		}
		toks = append(toks, token{raw: raw, width: utf16Len(r), r: r})
		i += n
	}
	return toks
}

// tagName returns the lower-case name of a tag such as <a href="…"> or
// </b>, or "" when raw is not a tag.
func tagName(raw string) string {
	inner := strings.TrimPrefix(raw[1:len(raw)-1], "/")
	end := 0
	for end < len(inner) && (inner[end] >= 'a' && inner[end] <= 'z' || inner[end] >= 'A' && inner[end] <= 'Z' ||
		end > 0 && (inner[end] >= '0' && inner[end] <= '9' || inner[end] == '-')) {
		end++
	}
	if end == 0 || end < len(inner) && inner[end] != ' ' && inner[end] != '/' {
		return ""
	}
	return strings.ToLower(inner[:end])
}

func decodeEntity(e string) (rune, bool) {
	switch e {
	case "&amp;":
		return '&', true
	case "&lt;":
		return '<', true
	case "&gt;":
		return '>', true
	case "&quot;":
		return '"', true
	}
	if strings.HasPrefix(e, "&#") {
		num := e[2 : len(e)-1]
		base := 10
		if strings.HasPrefix(num, "x") || strings.HasPrefix(num, "X") {
			num, base = num[1:], 16
		}
		v, err := strconv.ParseUint(num, base, 32)
		if err == nil && utf8.ValidRune(rune(v)) {
			return rune(v), true
		}
	}
	return 0, false
}

func utf16Len(r rune) int {
	if r >= 0x10000 {
		return 2
	}
	return 1
}

// VisibleLen is the length Telegram counts for an HTML message: the text
// without tags, entities decoded, in UTF-16 code units.
func VisibleLen(htmlText string) int {
	n := 0
	for _, t := range tokenize(htmlText) {
		n += t.width
	}
	return n
}

// PlainText strips the tags from Telegram HTML and decodes the entities (the
// fallback when Telegram refuses the markup).
func PlainText(htmlText string) string {
	var b strings.Builder
	for _, t := range tokenize(htmlText) {
		if !t.isTag() {
			b.WriteRune(t.r)
		}
	}
	return b.String()
}

// stack is an immutable stack of open tags (index of the opening token).
type stack struct {
	tok    int
	parent *stack
}

// Split cuts Telegram HTML into messages of at most limit visible UTF-16
// code units. It cuts at the last paragraph break that fits, else the last
// line break, else the last space, else between two characters (never
// inside a tag, an entity, a surrogate pair or an emoji sequence). Tags
// open at a cut are closed at the end of one part and reopened at the start
// of the next. Parts are trimmed and empty parts dropped.
func Split(htmlText string, limit int) []string {
	if limit < 8 {
		limit = 8
	}
	if len(htmlText) <= limit { // UTF-16 units never outnumber UTF-8 bytes
		if t := strings.TrimSpace(htmlText); VisibleLen(t) > 0 {
			return []string{t}
		}
		return nil
	}
	toks := tokenize(htmlText)
	// open[i] is the stack of tags open before token i.
	open := make([]*stack, len(toks)+1)
	var st *stack
	for i, t := range toks {
		open[i] = st
		if t.isTag() {
			if t.close {
				// Pop up to the matching tag (tolerates bad nesting).
				for p := st; p != nil; p = p.parent {
					if toks[p.tok].tag == t.tag {
						st = p.parent
						break
					}
				}
			} else if !selfClosing(t) {
				st = &stack{tok: i, parent: st}
			}
		}
	}
	open[len(toks)] = st

	var parts []string
	start := 0
	for start < len(toks) {
		// Skip leading whitespace.
		for start < len(toks) && !toks[start].isTag() && unicode.IsSpace(toks[start].r) {
			start++
		}
		if start >= len(toks) {
			break
		}
		width, end := 0, start
		para, line, space := -1, -1, -1
		for end < len(toks) {
			t := toks[end]
			if width+t.width > limit {
				break
			}
			width += t.width
			end++
			if !t.isTag() {
				switch {
				case t.r == '\n' && end >= 2 && !toks[end-2].isTag() && toks[end-2].r == '\n':
					para = end
				case t.r == '\n':
					line = end
				case unicode.IsSpace(t.r):
					space = end
				}
			}
		}
		cut := end
		if end < len(toks) {
			switch {
			case para > start:
				cut = para
			case line > start:
				cut = line
			case space > start:
				cut = space
			default:
				for cut > start+1 && !canCut(toks, cut) {
					cut--
				}
			}
		}
		// Leave tags opened just before the cut to the next part.
		for end < len(toks) && cut > start+1 && toks[cut-1].isTag() && !toks[cut-1].close {
			cut--
		}
		if p := renderPart(toks, open, start, cut); p != "" {
			parts = append(parts, p)
		}
		start = cut
	}
	return parts
}

func selfClosing(t token) bool {
	return strings.HasSuffix(t.raw, "/>") || t.tag == "br"
}

// canCut reports whether a hard cut before toks[i] keeps characters that
// display as one (emoji sequences, combining marks) together.
func canCut(toks []token, i int) bool {
	if i <= 0 || i >= len(toks) {
		return true
	}
	prev, next := toks[i-1], toks[i]
	if prev.isTag() || next.isTag() {
		return true
	}
	switch {
	case prev.r == 0x200D || next.r == 0x200D: // zero-width joiner
		return false
	case next.r >= 0xFE00 && next.r <= 0xFE0F: // variation selectors
		return false
	case next.r >= 0x1F3FB && next.r <= 0x1F3FF: // skin tones
		return false
	case next.r >= 0xE0020 && next.r <= 0xE007F: // tag sequences (flags)
		return false
	case unicode.Is(unicode.Mn, next.r) || unicode.Is(unicode.Me, next.r) || next.r == 0x20E3:
		return false
	case isRegional(prev.r) && isRegional(next.r):
		// Keep flag pairs together: count the run of regional indicators.
		n := 0
		for j := i - 1; j >= 0 && !toks[j].isTag() && isRegional(toks[j].r); j-- {
			n++
		}
		return n%2 == 0
	}
	return true
}

func isRegional(r rune) bool { return r >= 0x1F1E6 && r <= 0x1F1FF }

// renderPart writes toks[start:end] with the tags open at start reopened and
// those open at end closed, trimming whitespace at both ends.
func renderPart(toks []token, open []*stack, start, end int) string {
	// Trim trailing whitespace (keeping closing tags).
	last := end
	for last > start && !toks[last-1].isTag() && unicode.IsSpace(toks[last-1].r) {
		last--
	}
	visible := false
	for i := start; i < last; i++ {
		if !toks[i].isTag() {
			visible = true
			break
		}
	}
	if !visible {
		return ""
	}
	var b strings.Builder
	var reopen []string
	for p := open[start]; p != nil; p = p.parent {
		reopen = append(reopen, toks[p.tok].raw)
	}
	for i := len(reopen) - 1; i >= 0; i-- {
		b.WriteString(reopen[i])
	}
	for i := start; i < end; i++ {
		if i >= last && !toks[i].isTag() {
			continue
		}
		b.WriteString(toks[i].raw)
	}
	for p := open[end]; p != nil; p = p.parent {
		b.WriteString("</" + toks[p.tok].tag + ">")
	}
	return b.String()
}
