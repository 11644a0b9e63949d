// Package markdown parses the bot's Markdown (the answers in the knowledge
// and the bot's own texts) once, with goldmark, into a small neutral model
// that each adapter renders its own way: Telegram HTML, Discord Markdown,
// terminal text.
package markdown

import (
	"bufio"
	"bytes"
	stdhtml "html"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	extast "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// BlockKind is the kind of a block.
type BlockKind int

// The blocks.
const (
	Paragraph BlockKind = iota
	Heading             // Level 1-6, Inlines
	List                // Ordered, Start, Items
	Quote               // Blocks
	Code                // Text (no trailing newline), Lang
	Rule                // a thematic break
	Table               // Rows of cells; the first row is the header
	HTML                // Text: raw HTML, shown as text
)

// Block is one block of a document.
type Block struct {
	Kind BlockKind
	// Blank is true when a blank line separates the block from the one
	// before (a list right under its paragraph has none).
	Blank   bool
	Level   int      // Heading
	Inlines []Inline // Paragraph, Heading
	Ordered bool     // List
	Start   int      // List: the first number when ordered
	Items   [][]Block
	Blocks  []Block      // Quote
	Text    string       // Code, HTML
	Lang    string       // Code: the fence's info word
	Rows    [][][]Inline // Table
}

// InlineKind is the kind of an inline span.
type InlineKind int

// The inline spans.
const (
	Text      InlineKind = iota // Text (entities and escapes resolved)
	Strong                      // Children
	Emphasis                    // Children
	Strike                      // Children
	CodeSpan                    // Text
	Link                        // URL, Children (the label; may be empty)
	LineBreak                   // a hard or soft line break inside a paragraph
	RawHTML                     // Text: inline HTML, shown as text
)

// Inline is one inline span.
type Inline struct {
	Kind     InlineKind
	Text     string
	URL      string
	Children []Inline
}

var md = goldmark.New(goldmark.WithExtensions(extension.Strikethrough, extension.Table))

// Parse parses Markdown. Invalid UTF-8 becomes U+FFFD; link reference
// definitions are resolved and dropped.
func Parse(src string) []Block {
	b := []byte(strings.ToValidUTF8(src, "\uFFFD"))
	doc := md.Parser().Parse(text.NewReader(b), parser.WithContext(parser.NewContext()))
	p := &parse{src: b}
	return p.blocks(doc)
}

type parse struct{ src []byte }

func (p *parse) blocks(n ast.Node) []Block {
	var out []Block
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		if c.Kind() == ast.KindLinkReferenceDefinition {
			continue
		}
		for _, b := range p.block(c) {
			b.Blank = c.HasBlankPreviousLines()
			out = append(out, b)
		}
	}
	return out
}

func (p *parse) lines(n ast.Node) string {
	return string(bytes.TrimRight(n.Lines().Value(p.src), "\n"))
}

func (p *parse) block(n ast.Node) []Block {
	switch n := n.(type) {
	case *ast.Paragraph, *ast.TextBlock:
		return []Block{{Kind: Paragraph, Inlines: p.inlines(n)}}
	case *ast.Heading:
		return []Block{{Kind: Heading, Level: n.Level, Inlines: p.inlines(n)}}
	case *ast.ThematicBreak:
		return []Block{{Kind: Rule}}
	case *ast.CodeBlock:
		return []Block{{Kind: Code, Text: p.lines(n)}}
	case *ast.FencedCodeBlock:
		return []Block{{Kind: Code, Text: p.lines(n), Lang: string(n.Language(p.src))}}
	case *ast.HTMLBlock:
		v := n.Lines().Value(p.src)
		if n.HasClosure() {
			v = append(v, n.ClosureLine.Value(p.src)...)
		}
		return []Block{{Kind: HTML, Text: string(bytes.TrimRight(v, "\n"))}}
	case *ast.Blockquote:
		return []Block{{Kind: Quote, Blocks: p.blocks(n)}}
	case *ast.List:
		b := Block{Kind: List, Ordered: n.IsOrdered(), Start: n.Start}
		for it := n.FirstChild(); it != nil; it = it.NextSibling() {
			b.Items = append(b.Items, p.blocks(it))
		}
		return []Block{b}
	case *extast.Table:
		b := Block{Kind: Table}
		for r := n.FirstChild(); r != nil; r = r.NextSibling() {
			var row [][]Inline
			for c := r.FirstChild(); c != nil; c = c.NextSibling() {
				row = append(row, p.inlines(c))
			}
			b.Rows = append(b.Rows, row)
		}
		return []Block{b}
	default:
		// An unknown block: its blocks, or its text as a paragraph.
		if n.FirstChild() != nil && n.FirstChild().Type() == ast.TypeBlock {
			return p.blocks(n)
		}
		return []Block{{Kind: Paragraph, Inlines: p.inlines(n)}}
	}
}

func (p *parse) inlines(n ast.Node) []Inline {
	var out []Inline
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		out = p.inline(out, c)
	}
	return out
}

// addText appends text, merging it with a preceding text span.
func addText(out []Inline, s string) []Inline {
	if s == "" {
		return out
	}
	if k := len(out) - 1; k >= 0 && out[k].Kind == Text {
		out[k].Text += s
		return out
	}
	return append(out, Inline{Kind: Text, Text: s})
}

func (p *parse) inline(out []Inline, n ast.Node) []Inline {
	switch n := n.(type) {
	case *ast.Text:
		v := n.Segment.Value(p.src)
		if n.IsRaw() {
			out = addText(out, string(v))
		} else {
			out = addText(out, resolve(v))
		}
		if n.HardLineBreak() || n.SoftLineBreak() {
			out = append(out, Inline{Kind: LineBreak})
		}
	case *ast.String:
		if n.IsCode() || n.IsRaw() {
			out = addText(out, string(n.Value))
		} else {
			out = addText(out, resolve(n.Value))
		}
	case *ast.CodeSpan:
		var b strings.Builder
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			var v []byte
			switch t := c.(type) {
			case *ast.Text:
				v = t.Segment.Value(p.src)
			case *ast.String:
				v = t.Value
			}
			if bytes.HasSuffix(v, []byte("\n")) {
				v = append(v[:len(v)-1:len(v)-1], ' ')
			}
			b.Write(v)
		}
		out = append(out, Inline{Kind: CodeSpan, Text: b.String()})
	case *ast.Emphasis:
		k := Emphasis
		if n.Level >= 2 {
			k = Strong
		}
		out = append(out, Inline{Kind: k, Children: p.inlines(n)})
	case *extast.Strikethrough:
		out = append(out, Inline{Kind: Strike, Children: p.inlines(n)})
	case *ast.Link:
		out = append(out, Inline{Kind: Link, URL: linkURL(n.Destination), Children: p.inlines(n)})
	case *ast.Image:
		// No adapter shows images inside text: a link to it.
		out = append(out, Inline{Kind: Link, URL: linkURL(n.Destination), Children: p.inlines(n)})
	case *ast.AutoLink:
		u := n.URL(p.src)
		if n.AutoLinkType == ast.AutoLinkEmail && !bytes.HasPrefix(bytes.ToLower(u), []byte("mailto:")) {
			u = append([]byte("mailto:"), u...)
		}
		out = append(out, Inline{Kind: Link, URL: linkURL(u), Children: []Inline{{Kind: Text, Text: string(n.Label(p.src))}}})
	case *ast.RawHTML:
		var b strings.Builder
		for i := 0; i < n.Segments.Len(); i++ {
			s := n.Segments.At(i)
			b.Write(s.Value(p.src))
		}
		out = append(out, Inline{Kind: RawHTML, Text: b.String()})
	default:
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			out = p.inline(out, c)
		}
	}
	return out
}

// resolve resolves backslash escapes and entity references the way
// goldmark's HTML writer does (which then escapes the result for HTML: that
// escaping is undone).
func resolve(v []byte) string {
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	html.DefaultWriter.Write(w, v)
	_ = w.Flush()
	return stdhtml.UnescapeString(b.String())
}

func linkURL(dest []byte) string {
	return strings.TrimSpace(string(util.URLEscape(dest, true)))
}

// SafeURL reports whether u may become a link: http(s), tg and mailto
// addresses only.
func SafeURL(u string) bool {
	l := strings.ToLower(u)
	for _, p := range []string{"https://", "http://", "tg://", "mailto:"} {
		if strings.HasPrefix(l, p) && len(l) > len(p) {
			return true
		}
	}
	return false
}

// PlainText is the text of inline spans without formatting (a link's
// label, or its address when the label is empty).
func PlainText(in []Inline) string {
	var b strings.Builder
	var walk func([]Inline)
	walk = func(in []Inline) {
		for _, s := range in {
			switch s.Kind {
			case Text, CodeSpan, RawHTML:
				b.WriteString(s.Text)
			case LineBreak:
				b.WriteByte('\n')
			case Link:
				if len(s.Children) == 0 {
					b.WriteString(s.URL)
				}
				walk(s.Children)
			default:
				walk(s.Children)
			}
		}
	}
	walk(in)
	return b.String()
}
