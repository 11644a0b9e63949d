package web

import (
	"bytes"
	stdhtml "html"
	"net/url"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// The bot's replies are Markdown. The widget shows them as HTML rendered
// here, on the server: raw HTML in the Markdown is dropped (goldmark's
// default), images become their alt text (the widget makes no third-party
// requests), and a link survives only with an http(s) address, opening in a
// new tab with rel="noopener noreferrer". Articles are reached by buttons,
// which the router adds, never by links.

// The same extensions as bot/markdown (the other adapters' parser): tables
// (aligned with the align attribute, not inline styles the page's CSP would
// block) and strikethrough.
var md = goldmark.New(
	goldmark.WithExtensions(extension.Strikethrough,
		extension.NewTable(extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute))),
	goldmark.WithParserOptions(parser.WithASTTransformers(util.Prioritized(safeLinks{}, 100))),
	goldmark.WithRendererOptions(html.WithHardWraps()),
)

// RenderHTML renders a reply's Markdown to safe HTML for the widget.
func RenderHTML(markdown string) string {
	var buf bytes.Buffer
	if err := md.Convert([]byte(markdown), &buf); err != nil {
		// Convert only fails when writing to buf fails; fall back to text.
		return stdhtml.EscapeString(markdown)
	}
	return strings.TrimSpace(buf.String())
}

// httpURL reports whether s is an absolute http or https URL.
func httpURL(s string) bool {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Host == "" {
		return false
	}
	scheme := strings.ToLower(u.Scheme)
	return scheme == "http" || scheme == "https"
}

type safeLinks struct{}

func (safeLinks) Transform(doc *ast.Document, reader text.Reader, _ parser.Context) {
	src := reader.Source()
	var unwrap []ast.Node
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch l := n.(type) {
		case *ast.Link:
			if !httpURL(string(l.Destination)) {
				unwrap = append(unwrap, l)
				return ast.WalkSkipChildren, nil
			}
			setLinkAttrs(l)
		case *ast.AutoLink:
			if l.AutoLinkType != ast.AutoLinkURL || !httpURL(string(l.URL(src))) {
				unwrap = append(unwrap, l)
				return ast.WalkSkipChildren, nil
			}
			setLinkAttrs(l)
		case *ast.Image:
			unwrap = append(unwrap, l)
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	for _, n := range unwrap {
		parent := n.Parent()
		if parent == nil {
			continue
		}
		if al, ok := n.(*ast.AutoLink); ok {
			parent.ReplaceChild(parent, n, ast.NewString(al.Label(src)))
			continue
		}
		// Keep the link's (or image's alt) text, without the link.
		for c := n.FirstChild(); c != nil; {
			next := c.NextSibling()
			parent.InsertBefore(parent, n, c)
			c = next
		}
		parent.RemoveChild(parent, n)
	}
}

func setLinkAttrs(n ast.Node) {
	n.SetAttributeString("rel", []byte("noopener noreferrer"))
	n.SetAttributeString("target", []byte("_blank"))
}
