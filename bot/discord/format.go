package discord

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/impbot/impbot/bot/markdown"
)

// MaxMessage is Discord's limit on the content of one message. Lengths are
// counted in UTF-16 code units, which is never less than what Discord counts.
const MaxMessage = 2000

// Format fits the bot's Markdown to what Discord renders, from the tree
// bot/markdown parses: bold, italics, strikethrough, links, lists, code and
// quotes are written in Discord's Markdown; headings become bold lines
// (Discord's headings are very large and stop at three levels), tables
// become lines of cells (Discord has no tables), horizontal rules are
// dropped, only http(s) and mailto links stay links, and characters Discord
// would read as formatting are escaped.
func Format(md string) string {
	f := &formatter{}
	f.blocks(markdown.Parse(strings.ReplaceAll(md, "\r\n", "\n")), "")
	s := f.b.String()
	for strings.Contains(s, "\n\n\n") {
		s = strings.ReplaceAll(s, "\n\n\n", "\n\n")
	}
	return strings.TrimSpace(s)
}

type formatter struct {
	b strings.Builder
}

// blocks writes blocks, each line prefixed with indent (nested lists,
// quotes); a blank line separates blocks unless the source had none.
func (f *formatter) blocks(bs []markdown.Block, indent string) {
	first := true
	for _, b := range bs {
		if b.Kind == markdown.Rule {
			continue
		}
		if !first {
			f.b.WriteString("\n")
			if b.Blank {
				f.b.WriteString(strings.TrimRight(indent, " ") + "\n")
			}
			f.b.WriteString(indent)
		}
		first = false
		f.block(b, indent)
	}
}

// lines writes s with indent before every line but the first (the caller
// wrote the first line's prefix).
func (f *formatter) lines(s, indent string) {
	f.b.WriteString(strings.ReplaceAll(s, "\n", "\n"+indent))
}

func (f *formatter) block(b markdown.Block, indent string) {
	switch b.Kind {
	case markdown.Paragraph:
		f.lines(inlineMD(b.Inlines, false), indent)
	case markdown.Heading:
		if h := strings.TrimSpace(inlineMD(b.Inlines, true)); h != "" {
			f.lines("**"+h+"**", indent)
		}
	case markdown.Code:
		f.lines("```"+b.Lang+"\n"+b.Text+"\n```", indent)
	case markdown.HTML:
		f.lines(escapeMD(b.Text), indent)
	case markdown.Quote:
		f.b.WriteString("> ")
		f.blocks(b.Blocks, indent+"> ")
	case markdown.List:
		n := b.Start
		for i, item := range b.Items {
			if i > 0 {
				f.b.WriteString("\n" + indent)
			}
			bullet := "- "
			if b.Ordered {
				bullet = strconv.Itoa(n) + ". "
				n++
			}
			f.b.WriteString(bullet)
			f.blocks(item, indent+strings.Repeat(" ", len(bullet)))
		}
	case markdown.Table:
		for i, row := range b.Rows {
			if i > 0 {
				f.b.WriteString("\n" + indent)
			}
			cells := make([]string, len(row))
			for j, c := range row {
				cells[j] = strings.TrimSpace(inlineMD(c, false))
			}
			f.b.WriteString(strings.Join(cells, " · "))
		}
	}
}

// inlineMD writes inline spans as Discord Markdown; plain drops bold (for
// headings, which become bold as a whole).
func inlineMD(in []markdown.Inline, plain bool) string {
	var b strings.Builder
	for i, s := range in {
		switch s.Kind {
		case markdown.Text:
			b.WriteString(escapeMD(s.Text))
		case markdown.LineBreak:
			b.WriteByte('\n')
		case markdown.RawHTML:
			if brRE.MatchString(s.Text) {
				b.WriteByte('\n')
			} else {
				b.WriteString(escapeMD(s.Text))
			}
		case markdown.CodeSpan:
			fence := "`"
			for strings.Contains(s.Text, fence) {
				fence += "`"
			}
			pad := ""
			if strings.HasPrefix(s.Text, "`") || strings.HasSuffix(s.Text, "`") {
				pad = " "
			}
			b.WriteString(fence + pad + s.Text + pad + fence)
		case markdown.Strong:
			inner := inlineMD(s.Children, plain)
			if plain {
				b.WriteString(inner)
			} else {
				b.WriteString("**" + inner + "**")
			}
		case markdown.Emphasis:
			// "_" reads best, but does not work inside a word.
			m := "_"
			if wordBefore(in, i) || wordAfter(in, i) {
				m = "*"
			}
			b.WriteString(m + inlineMD(s.Children, plain) + m)
		case markdown.Strike:
			b.WriteString("~~" + inlineMD(s.Children, plain) + "~~")
		case markdown.Link:
			label := inlineMD(s.Children, plain)
			switch {
			case !safeLink(s.URL):
				b.WriteString(label)
			case label == "" || markdown.PlainText(s.Children) == s.URL:
				b.WriteString("<" + s.URL + ">")
			default:
				b.WriteString("[" + label + "](" + linkDest(s.URL) + ")")
			}
		}
	}
	return b.String()
}

func wordBefore(in []markdown.Inline, i int) bool {
	if i == 0 || in[i-1].Kind != markdown.Text || in[i-1].Text == "" {
		return false
	}
	r, _ := utf8.DecodeLastRuneInString(in[i-1].Text)
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

func wordAfter(in []markdown.Inline, i int) bool {
	if i+1 >= len(in) || in[i+1].Kind != markdown.Text || in[i+1].Text == "" {
		return false
	}
	r, _ := utf8.DecodeRuneInString(in[i+1].Text)
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

var brRE = regexp.MustCompile(`(?i)^<br\s*/?>$`)

// safeLink: Discord links http(s) and mailto addresses.
func safeLink(u string) bool {
	l := strings.ToLower(u)
	return markdown.SafeURL(u) && !strings.HasPrefix(l, "tg://")
}

// linkDest keeps a link's address inside Discord's (…).
func linkDest(u string) string {
	return strings.NewReplacer("(", "%28", ")", "%29", " ", "%20").Replace(u)
}

// escapeMD escapes the characters Discord reads as formatting in text, and
// the line starts it reads as headings, quotes or lists.
func escapeMD(s string) string {
	var b strings.Builder
	lineStart := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\', '*', '_', '~', '`', '|':
			b.WriteByte('\\')
		case '#', '>', '-', '+':
			if lineStart && i+1 < len(s) && (s[i+1] == ' ' || (c == '#' && s[i+1] == '#')) {
				b.WriteByte('\\')
			}
		}
		b.WriteByte(c)
		lineStart = c == '\n' || (lineStart && c == ' ')
	}
	return b.String()
}

// fenceOpen returns the fence ("```" or "~~~", possibly longer) that line
// opens, or "".
func fenceOpen(line string) string {
	t := strings.TrimLeft(line, " ")
	if len(line)-len(t) > 3 {
		return ""
	}
	for _, c := range []byte{'`', '~'} {
		n := 0
		for n < len(t) && t[n] == c {
			n++
		}
		if n >= 3 {
			if c == '`' && strings.Contains(t[n:], "`") {
				return "" // an inline code span, not a fence
			}
			return t[:n]
		}
	}
	return ""
}

func isFenceClose(line, fence string) bool {
	t := strings.TrimSpace(line)
	return len(t) >= len(fence) && strings.Trim(t, fence[:1]) == "" && t[0] == fence[0]
}

// u16len is the length of s in UTF-16 code units.
func u16len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// A break is a place where a message may be split.
type brk struct {
	end   int    // the chunk ends here (exclusive, trailing space trimmed later)
	next  int    // the next chunk starts here
	class int    // lower is a better place to split
	close string // appended to the chunk to close open formatting
	open  string // prepended to the next chunk to reopen it
}

// Break classes, best first.
const (
	clsParagraph = iota
	clsLine
	clsSentence
	clsSpace
	clsInEmphasis = 4  // added when the break is inside bold or italics
	clsInFence    = 10 // a line inside a fenced code block
)

// span is a range of text: atomic ones (links, code spans) are never split;
// emphasis ones are split only by closing and reopening their marker.
type span struct {
	start, end int
	marker     string // "" for atomic spans
}

// Split cuts text into chunks of at most limit UTF-16 code units, keeping
// the formatting intact: it prefers paragraph breaks, then line breaks, then
// sentence ends, then spaces; never splits inside a link, a code span or an
// autolink; splits inside bold, italics, underline, strikethrough or spoilers
// only when no other break is near, closing the markers at the end of the
// chunk and reopening them at the start of the next; and splits a fenced
// code block between lines, closing and reopening the fence. A single word
// longer than limit is cut where it must be.
func Split(text string, limit int) []string {
	if limit < 16 {
		limit = 16
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return nil
	}
	if u16len(text) <= limit {
		return []string{text}
	}
	// u16 prefix sums at every byte offset that starts a rune.
	pre := make([]int, len(text)+1)
	n := 0
	for i, r := range text {
		pre[i] = n
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
		for j := i + 1; j < i+utf8.RuneLen(r) && j < len(text); j++ {
			pre[j] = n // never a split point; keeps the array monotonic
		}
	}
	pre[len(text)] = n

	breaks, atomic, emph := analyze(text)
	var chunks []string
	start, opening := 0, ""
	bi := 0
	for start < len(text) {
		budget := limit - u16len(opening)
		rest := strings.TrimRight(text[start:], " \t\n")
		if pre[start+len(rest)]-pre[start] <= budget {
			if c := opening + rest; strings.TrimSpace(rest) != "" {
				chunks = append(chunks, c)
			}
			break
		}
		for bi < len(breaks) && breaks[bi].end <= start {
			bi++
		}
		best := -1
		bestFar := -1
		for k := bi; k < len(breaks); k++ {
			b := breaks[k]
			if b.next <= start {
				continue
			}
			end := trimEnd(text, start, b.end)
			if end <= start {
				continue
			}
			size := pre[end] - pre[start] + u16len(b.close)
			if size > budget {
				if pre[b.end]-pre[start] > budget {
					break // breaks are in order: the rest are further
				}
				continue
			}
			if size >= budget/2 {
				if best < 0 || b.class < breaks[best].class || (b.class == breaks[best].class && b.end > breaks[best].end) {
					best = k
				}
			}
			if bestFar < 0 || b.end > breaks[bestFar].end {
				bestFar = k
			}
		}
		if best < 0 {
			best = bestFar
		}
		if best >= 0 {
			b := breaks[best]
			chunks = append(chunks, opening+text[start:trimEnd(text, start, b.end)]+b.close)
			start, opening = b.next, b.open
			continue
		}
		// No break fits: cut, but never inside a link or code span that
		// could start a chunk of its own.
		cut := start
		for cut < len(text) {
			_, w := utf8.DecodeRuneInString(text[cut:])
			cl, _ := emphAt(emph, cut+w)
			if pre[cut+w]-pre[start]+u16len(cl) > budget {
				break
			}
			cut += w
		}
		if cut == start {
			_, w := utf8.DecodeRuneInString(text[cut:])
			cut += w
		}
		for _, a := range atomic {
			if a.start > start && a.start < cut && a.end > cut {
				cut = a.start
				break
			}
		}
		cl, op := emphAt(emph, cut)
		chunks = append(chunks, opening+text[start:cut]+cl)
		start, opening = cut, op
	}
	return chunks
}

// trimEnd moves end back over trailing spaces and newlines, not before start.
func trimEnd(text string, start, end int) int {
	for end > start && (text[end-1] == ' ' || text[end-1] == '\n' || text[end-1] == '\t') {
		end--
	}
	return end
}

// emphAt returns the markers that close and reopen the emphasis spans open
// at offset pos.
func emphAt(emph []span, pos int) (closing, opening string) {
	var open []string
	for _, e := range emph {
		if e.start < pos && pos < e.end {
			open = append(open, e.marker)
		}
	}
	for i := len(open) - 1; i >= 0; i-- {
		closing += open[i]
	}
	return closing, strings.Join(open, "")
}

// analyze finds the places where text may be split, the atomic spans and
// the emphasis spans.
func analyze(text string) (breaks []brk, atomic, emph []span) {
	inside := func(pos int) bool {
		for _, a := range atomic {
			if a.start < pos && pos < a.end {
				return true
			}
		}
		return false
	}
	// Blocks: runs of lines outside fences, and fenced code blocks.
	type line struct{ start, end int } // end excludes the newline
	var lines []line
	for i := 0; i <= len(text); {
		j := strings.IndexByte(text[i:], '\n')
		if j < 0 {
			lines = append(lines, line{i, len(text)})
			break
		}
		lines = append(lines, line{i, i + j})
		i += j + 1
	}
	type block struct {
		first, last int // line indexes
		fence       string
		info        string
	}
	var blocks []block
	for i := 0; i < len(lines); i++ {
		l := text[lines[i].start:lines[i].end]
		if f := fenceOpen(l); f != "" {
			j := i + 1
			for j < len(lines) && !isFenceClose(text[lines[j].start:lines[j].end], f) {
				j++
			}
			if j == len(lines) {
				j = len(lines) - 1
			}
			info := strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(l), f[:1]))
			blocks = append(blocks, block{i, j, f, info})
			i = j
			continue
		}
		// A paragraph block ends at a blank line; list items, headings and
		// quotes start new blocks (emphasis cannot cross them).
		j := i
		for j+1 < len(lines) {
			nl := text[lines[j+1].start:lines[j+1].end]
			if strings.TrimSpace(nl) == "" || fenceOpen(nl) != "" || startsBlock(nl) {
				break
			}
			j++
		}
		blocks = append(blocks, block{first: i, last: j})
		i = j
	}
	for _, b := range blocks {
		bs, be := lines[b.first].start, lines[b.last].end
		if b.fence != "" {
			atomic = append(atomic, span{start: bs, end: be})
			// Lines inside the fence: split after content lines, except
			// the last one before the closing fence.
			lastContent := b.last - 1
			if !isFenceClose(text[lines[b.last].start:lines[b.last].end], b.fence) {
				lastContent = b.last
			}
			for k := b.first + 1; k < lastContent; k++ {
				breaks = append(breaks, brk{
					end: lines[k].end, next: lines[k].end + 1, class: clsInFence,
					close: "\n" + b.fence, open: b.fence + b.info + "\n",
				})
			}
			continue
		}
		a, e := inlineSpans(text, bs, be)
		atomic = append(atomic, a...)
		emph = append(emph, e...)
	}
	sortSpans(atomic)
	// Break candidates outside fences and atomic spans.
	fenced := func(pos int) bool {
		for _, b := range blocks {
			if b.fence != "" && lines[b.first].start <= pos && pos < lines[b.last].end {
				return true
			}
		}
		return false
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c != ' ' && c != '\n' {
			continue
		}
		if fenced(i) || inside(i) {
			continue
		}
		var b brk
		switch {
		case c == '\n':
			j := i
			for j < len(text) && (text[j] == '\n' || text[j] == ' ' || text[j] == '\t') {
				j++
			}
			// back up to the start of the line that follows, keeping its indent
			k := j
			for k > i && text[k-1] != '\n' {
				k--
			}
			if strings.Count(text[i:j], "\n") >= 2 {
				b = brk{end: i, next: k, class: clsParagraph}
			} else {
				b = brk{end: i, next: i + 1, class: clsLine}
			}
			i = j - 1
		default:
			j := i
			for j < len(text) && text[j] == ' ' {
				j++
			}
			if j < len(text) && text[j] == '\n' {
				continue // trailing spaces: the newline is the break
			}
			cls := clsSpace
			if i > 0 && strings.IndexByte(".!?:;", text[i-1]) >= 0 {
				cls = clsSentence
			}
			b = brk{end: i, next: j, class: cls}
			i = j - 1
		}
		if cl, op := emphAt(emph, b.end); cl != "" {
			b.class += clsInEmphasis
			b.close, b.open = cl, op
		}
		breaks = append(breaks, b)
	}
	sort.Slice(breaks, func(i, j int) bool { return breaks[i].end < breaks[j].end })
	return breaks, atomic, emph
}

var listItemRE = regexp.MustCompile(`^\s*([-*+]|\d{1,9}[.)])\s`)

func startsBlock(line string) bool {
	t := strings.TrimLeft(line, " ")
	return listItemRE.MatchString(line) || strings.HasPrefix(t, "#") || strings.HasPrefix(t, ">") || strings.HasPrefix(t, "|")
}

func sortSpans(s []span) {
	sort.Slice(s, func(i, j int) bool { return s[i].start < s[j].start })
}

// inlineSpans finds, in text[from:to], the code spans, links and autolinks
// (atomic) and the matched emphasis spans.
func inlineSpans(text string, from, to int) (atomic, emph []span) {
	seg := text[from:to]
	taken := make([]bool, len(seg)) // bytes inside atomic spans
	mark := func(s, e int) {
		atomic = append(atomic, span{start: from + s, end: from + e})
		for k := s; k < e; k++ {
			taken[k] = true
		}
	}
	// Code spans: a run of n backticks up to the next run of exactly n.
	for i := 0; i < len(seg); {
		if seg[i] != '`' {
			i++
			continue
		}
		n := 0
		for i+n < len(seg) && seg[i+n] == '`' {
			n++
		}
		closeAt := -1
		for j := i + n; j < len(seg); {
			if seg[j] != '`' {
				j++
				continue
			}
			m := 0
			for j+m < len(seg) && seg[j+m] == '`' {
				m++
			}
			if m == n {
				closeAt = j + m
				break
			}
			j += m
		}
		if closeAt < 0 {
			i += n
			continue
		}
		mark(i, closeAt)
		i = closeAt
	}
	// Links [label](url) and autolinks <scheme:...>.
	for i := 0; i < len(seg); i++ {
		if taken[i] {
			continue
		}
		switch seg[i] {
		case '[':
			depth, j := 0, i
			for ; j < len(seg); j++ {
				if taken[j] {
					continue
				}
				if seg[j] == '[' {
					depth++
				} else if seg[j] == ']' {
					depth--
					if depth == 0 {
						break
					}
				} else if seg[j] == '\n' && j+1 < len(seg) && seg[j+1] == '\n' {
					break
				}
			}
			if j >= len(seg) || seg[j] != ']' || j+1 >= len(seg) || seg[j+1] != '(' {
				continue
			}
			pd, k := 0, j+1
			for ; k < len(seg); k++ {
				if seg[k] == '(' {
					pd++
				} else if seg[k] == ')' {
					pd--
					if pd == 0 {
						break
					}
				} else if seg[k] == ' ' || seg[k] == '\n' {
					if !(k+1 < len(seg) && seg[k+1] == '"') { // [a](url "title")
						break
					}
				}
			}
			if k < len(seg) && seg[k] == ')' {
				mark(i, k+1)
				i = k
			}
		case '<':
			k := strings.IndexByte(seg[i:], '>')
			if k > 0 {
				inner := seg[i+1 : i+k]
				if !strings.ContainsAny(inner, " \n<") && (strings.HasPrefix(inner, "http://") || strings.HasPrefix(inner, "https://") || strings.HasPrefix(inner, "mailto:")) {
					mark(i, i+k+1)
					i += k
				}
			}
		}
	}
	// Emphasis: pair the markers in order, longest marker first, skipping
	// atomic spans. An opener is followed by a non-space, a closer preceded
	// by one; "_" and "__" do not open or close inside words.
	used := make([]bool, len(seg))
	for _, m := range []string{"**", "__", "~~", "||", "*", "_"} {
		openAt := -1
		for i := 0; i+len(m) <= len(seg); i++ {
			if taken[i] || used[i] || seg[i:i+len(m)] != m {
				continue
			}
			// a longer run of the same character is not this marker
			c := m[0]
			if (i > 0 && seg[i-1] == c && !used[i-1]) || (i+len(m) < len(seg) && seg[i+len(m)] == c && !used[i+len(m)]) {
				continue
			}
			before, after := byte(' '), byte(' ')
			if i > 0 {
				before = seg[i-1]
			}
			if i+len(m) < len(seg) {
				after = seg[i+len(m)]
			}
			word := c == '_'
			canOpen := !isSpace(after) && !(word && isWordByte(before))
			canClose := openAt >= 0 && !isSpace(before) && !(word && isWordByte(after)) && i > openAt+len(m)
			if m == "*" && canOpen && lineStartBullet(seg, i) {
				canOpen = false
			}
			switch {
			case canClose:
				emph = append(emph, span{start: from + openAt, end: from + i + len(m), marker: m})
				for k := 0; k < len(m); k++ {
					used[openAt+k], used[i+k] = true, true
				}
				openAt = -1
				i += len(m) - 1
			case canOpen:
				openAt = i
				i += len(m) - 1
			}
		}
	}
	sortSpans(emph)
	return atomic, emph
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' }

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// lineStartBullet reports whether the "*" at i is a list bullet ("* item").
func lineStartBullet(seg string, i int) bool {
	j := i
	for j > 0 && seg[j-1] == ' ' {
		j--
	}
	return (j == 0 || seg[j-1] == '\n') && i+1 < len(seg) && seg[i+1] == ' '
}
