package telegram

import (
	"bufio"
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	extast "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// MaxMessageLen is Telegram's limit on a message's text after entity
// parsing, in UTF-16 code units.
const MaxMessageLen = 4096

var md = goldmark.New(goldmark.WithExtensions(extension.Strikethrough))

// Render converts the bot's Markdown (bold, italics, links, lists, code,
// quotes) to the HTML subset Telegram accepts with parse_mode HTML. Every
// piece of text is escaped; raw HTML in the input is shown as text, and only
// http(s), tg and mailto links become links.
func Render(markdown string) string {
	src := []byte(strings.ToValidUTF8(markdown, "\uFFFD"))
	doc := md.Parser().Parse(text.NewReader(src), parser.WithContext(parser.NewContext()))
	r := &tgRenderer{src: src}
	r.blocks(doc, "\n\n", "")
	return strings.TrimSpace(r.buf.String())
}

type tgRenderer struct {
	src []byte
	buf bytes.Buffer
	w   *bufio.Writer // writes to buf, flushed after each use
}

// text writes Markdown text: backslash escapes and entity references are
// resolved, then the result is escaped for HTML.
func (r *tgRenderer) text(v []byte) {
	if r.w == nil {
		r.w = bufio.NewWriterSize(&r.buf, 512)
	}
	html.DefaultWriter.Write(r.w, v)
	_ = r.w.Flush()
}

// raw writes literal text (code, raw HTML) escaped for HTML.
func (r *tgRenderer) raw(v []byte) {
	r.buf.WriteString(escape(string(v)))
}

// blocks renders the block children of n separated by sep; indent prefixes
// continuation lines of nested lists.
func (r *tgRenderer) blocks(n ast.Node, sep, indent string) {
	first := true
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		if c.Kind() == ast.KindLinkReferenceDefinition {
			continue
		}
		start := r.buf.Len()
		if !first {
			r.buf.WriteString(sep)
		}
		mark := r.buf.Len()
		r.block(c, indent)
		if r.buf.Len() == mark { // nothing rendered: drop the separator too
			r.buf.Truncate(start)
			continue
		}
		first = false
	}
}

func (r *tgRenderer) block(n ast.Node, indent string) {
	switch n := n.(type) {
	case *ast.Paragraph, *ast.TextBlock:
		r.inlines(n)
	case *ast.Heading:
		r.buf.WriteString("<b>")
		r.inlines(n)
		r.buf.WriteString("</b>")
	case *ast.ThematicBreak:
		r.buf.WriteString("——————")
	case *ast.CodeBlock:
		r.buf.WriteString("<pre>")
		r.raw(bytes.TrimRight(n.Lines().Value(r.src), "\n"))
		r.buf.WriteString("</pre>")
	case *ast.FencedCodeBlock:
		lang := codeLang.FindString(string(n.Language(r.src)))
		if lang != "" {
			r.buf.WriteString(`<pre><code class="language-` + lang + `">`)
		} else {
			r.buf.WriteString("<pre>")
		}
		r.raw(bytes.TrimRight(n.Lines().Value(r.src), "\n"))
		if lang != "" {
			r.buf.WriteString("</code>")
		}
		r.buf.WriteString("</pre>")
	case *ast.HTMLBlock:
		v := n.Lines().Value(r.src)
		if n.HasClosure() {
			v = append(v, n.ClosureLine.Value(r.src)...)
		}
		r.raw(bytes.TrimRight(v, "\n"))
	case *ast.Blockquote:
		r.buf.WriteString("<blockquote>")
		r.blocks(n, "\n", "")
		r.buf.WriteString("</blockquote>")
	case *ast.List:
		num := n.Start
		first := true
		for it := n.FirstChild(); it != nil; it = it.NextSibling() {
			if !first {
				r.buf.WriteString("\n" + indent)
			}
			first = false
			bullet := "• "
			if n.IsOrdered() {
				bullet = strconv.Itoa(num) + ". "
				num++
			}
			r.buf.WriteString(bullet)
			r.blocks(it, "\n"+indent+"   ", indent+"   ")
		}
	default:
		// Unknown block (an extension we do not enable): render its text.
		if n.Type() == ast.TypeBlock && n.FirstChild() != nil && n.FirstChild().Type() == ast.TypeBlock {
			r.blocks(n, "\n\n", indent)
		} else {
			r.inlines(n)
		}
	}
}

var codeLang = regexp.MustCompile(`^[A-Za-z0-9_+#.-]{1,32}$`)

func (r *tgRenderer) inlines(n ast.Node) {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		r.inline(c)
	}
}

func (r *tgRenderer) inline(n ast.Node) {
	switch n := n.(type) {
	case *ast.Text:
		if n.IsRaw() {
			r.raw(n.Segment.Value(r.src))
		} else {
			r.text(n.Segment.Value(r.src))
		}
		if n.HardLineBreak() || n.SoftLineBreak() {
			r.buf.WriteByte('\n')
		}
	case *ast.String:
		if n.IsCode() || n.IsRaw() {
			r.raw(n.Value)
		} else {
			r.text(n.Value)
		}
	case *ast.CodeSpan:
		r.buf.WriteString("<code>")
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			var v []byte
			switch t := c.(type) {
			case *ast.Text:
				v = t.Segment.Value(r.src)
			case *ast.String:
				v = t.Value
			}
			if bytes.HasSuffix(v, []byte("\n")) {
				v = append(v[:len(v)-1:len(v)-1], ' ')
			}
			r.raw(v)
		}
		r.buf.WriteString("</code>")
	case *ast.Emphasis:
		tag := "i"
		if n.Level >= 2 {
			tag = "b"
		}
		r.buf.WriteString("<" + tag + ">")
		r.inlines(n)
		r.buf.WriteString("</" + tag + ">")
	case *extast.Strikethrough:
		r.buf.WriteString("<s>")
		r.inlines(n)
		r.buf.WriteString("</s>")
	case *ast.Link:
		r.link(n.Destination, func() { r.inlines(n) })
	case *ast.Image:
		// Telegram cannot show an image inside a text message: link it.
		r.link(n.Destination, func() { r.inlines(n) })
	case *ast.AutoLink:
		u := n.URL(r.src)
		if n.AutoLinkType == ast.AutoLinkEmail && !bytes.HasPrefix(bytes.ToLower(u), []byte("mailto:")) {
			u = append([]byte("mailto:"), u...)
		}
		r.link(u, func() { r.raw(n.Label(r.src)) })
	case *ast.RawHTML:
		for i := 0; i < n.Segments.Len(); i++ {
			s := n.Segments.At(i)
			r.raw(s.Value(r.src))
		}
	default:
		r.inlines(n)
	}
}

// link writes an <a> around label when dest is a safe URL, else the label.
func (r *tgRenderer) link(dest []byte, label func()) {
	u := strings.TrimSpace(string(util.URLEscape(dest, true)))
	if !safeURL(u) {
		label()
		return
	}
	r.buf.WriteString(`<a href="` + escapeAttr(u) + `">`)
	mark := r.buf.Len()
	label()
	if r.buf.Len() == mark { // empty label: show the address
		r.buf.WriteString(escape(u))
	}
	r.buf.WriteString("</a>")
}

func safeURL(u string) bool {
	l := strings.ToLower(u)
	for _, p := range []string{"https://", "http://", "tg://", "mailto:"} {
		if strings.HasPrefix(l, p) && len(l) > len(p) {
			return true
		}
	}
	return false
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
