// Package knowledge loads and validates the knowledge files: the articles
// (Markdown with YAML front matter), the synonyms and the eligibility rules.
// The shipped files are embedded in the binary; a folder on disk can replace
// them so that staff can edit without rebuilding.
package knowledge

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Kinds of article.
const (
	KindTopic    = "topic"
	KindRedirect = "redirect"
)

// Article is one knowledge file.
type Article struct {
	ID        string   `yaml:"id" json:"id"`
	Lang      string   `yaml:"lang" json:"lang"`
	Kind      string   `yaml:"kind" json:"kind"`
	Title     string   `yaml:"title" json:"title"`
	Summary   string   `yaml:"summary" json:"summary"`
	Questions []string `yaml:"questions" json:"questions"`
	Keywords  []string `yaml:"keywords" json:"keywords"`
	Sources   []string `yaml:"sources" json:"sources"`
	Reviewed  string   `yaml:"reviewed" json:"reviewed"`
	Related   []string `yaml:"related" json:"related"`
	// Until, for a rule that stops applying on a known date (a temporary
	// public policy), is that date (YYYY-MM-DD); kb check warns once it has
	// passed.
	Until string `yaml:"until" json:"until,omitempty"`
	// CountryGroups names country groups of eligibility.yaml (iec, cusma…)
	// whose row an answer leads with when the question names a country.
	CountryGroups []string `yaml:"country_groups" json:"country_groups,omitempty"`

	// Body is the Markdown after the front matter.
	Body string `yaml:"-" json:"body"`
	// bodyLine is the file line where the body starts.
	bodyLine int `yaml:"-"`
	// File is the path the article was read from, for error messages.
	File string `yaml:"-" json:"-"`
	// Facts are the fact references the article uses ({{name}}), sorted.
	Facts []string `yaml:"-" json:"-"`

	// lines maps front-matter keys to their line numbers in File.
	lines map[string]int `yaml:"-"`
	// itemLines maps "key[i]" to the line of a list item.
	itemLines map[string]int `yaml:"-"`
}

// Line returns the line of a front-matter key in the file (1 when unknown).
func (a *Article) Line(key string) int {
	if n, ok := a.lines[key]; ok {
		return n
	}
	return 1
}

func (a *Article) itemLine(key string, i int) int {
	if n, ok := a.itemLines[fmt.Sprintf("%s[%d]", key, i)]; ok {
		return n
	}
	return a.Line(key)
}

// Problem is one finding of validation, reported as file:line: message.
type Problem struct {
	File    string
	Line    int
	Message string
}

func (p Problem) String() string {
	return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Message)
}

// Problems is a list of findings; it is an error when not empty.
type Problems []Problem

func (ps Problems) Error() string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.String())
	}
	return b.String()
}

func (ps Problems) sorted() Problems {
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].File != ps[j].File {
			return ps[i].File < ps[j].File
		}
		return ps[i].Line < ps[j].Line
	})
	return ps
}

var yamlLineRE = regexp.MustCompile(`line (\d+)`)

// ParseArticle parses one article file. Problems found in the file itself
// (syntax, missing or malformed fields) are returned with their line numbers;
// cross-file checks (duplicates, related IDs) are done by Load.
func ParseArticle(file string, data []byte) (*Article, Problems) {
	var probs Problems
	add := func(line int, format string, args ...any) {
		probs = append(probs, Problem{File: file, Line: line, Message: fmt.Sprintf(format, args...)})
	}
	if !isUTF8Text(data) {
		add(1, "file is not UTF-8 text")
		return nil, probs
	}
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	text = strings.TrimPrefix(text, "\ufeff")
	lines := strings.Split(text, "\n")
	if len(lines) == 0 || strings.TrimSpace(lines[0]) != "---" {
		add(1, "missing front matter: the file must start with a line '---'")
		return nil, probs
	}
	end := -1
	for i := 1; i < len(lines); i++ {
		if strings.TrimRight(lines[i], " \t") == "---" {
			end = i
			break
		}
	}
	if end < 0 {
		add(1, "front matter not closed: no second '---' line")
		return nil, probs
	}
	front := strings.Join(lines[1:end], "\n")
	const offset = 1 // front matter starts on file line 2

	a := &Article{File: file, lines: map[string]int{}, itemLines: map[string]int{}}
	// The front matter is parsed once, into nodes: decoded strictly from
	// them, and their lines kept for messages (parsing it a second time
	// was a third of a start's loading).
	var node yaml.Node
	err := yaml.Unmarshal([]byte(front), &node)
	if err == nil {
		err = decodeStrict(&node, a)
	}
	if err != nil {
		msg := err.Error()
		line := 1
		if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
			n, _ := strconv.Atoi(m[1])
			line = n + offset
		}
		msg = yamlLineRE.ReplaceAllStringFunc(msg, func(s string) string {
			n, _ := strconv.Atoi(yamlLineRE.FindStringSubmatch(s)[1])
			return fmt.Sprintf("line %d", n+offset)
		})
		msg = strings.ReplaceAll(strings.TrimPrefix(msg, "yaml: "), "\n", " ")
		add(line, "front matter: %s", msg)
		return nil, probs
	}
	if len(node.Content) == 1 {
		m := node.Content[0]
		for i := 0; i+1 < len(m.Content); i += 2 {
			k, v := m.Content[i], m.Content[i+1]
			a.lines[k.Value] = k.Line + offset
			if v.Kind == yaml.SequenceNode {
				for j, item := range v.Content {
					a.itemLines[fmt.Sprintf("%s[%d]", k.Value, j)] = item.Line + offset
				}
			}
		}
	}
	a.Body = strings.TrimSpace(strings.Join(lines[end+1:], "\n"))
	a.bodyLine = end + 2
	for i := end + 1; i < len(lines) && strings.TrimSpace(lines[i]) == ""; i++ {
		a.bodyLine++
	}
	a.Title = strings.TrimSpace(a.Title)
	a.Summary = strings.TrimSpace(a.Summary)
	a.ID = strings.TrimSpace(a.ID)
	a.Lang = strings.TrimSpace(a.Lang)
	a.Kind = strings.TrimSpace(a.Kind)
	probs = append(probs, a.validate()...)
	return a, probs
}

var idRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
var langRE = regexp.MustCompile(`^[a-z]{2}$`)

func (a *Article) validate() Problems {
	var probs Problems
	add := func(line int, format string, args ...any) {
		probs = append(probs, Problem{File: a.File, Line: line, Message: fmt.Sprintf(format, args...)})
	}
	switch {
	case a.ID == "":
		add(a.Line("id"), "missing id")
	case !idRE.MatchString(a.ID):
		add(a.Line("id"), "id %q must be lowercase letters, digits and single hyphens", a.ID)
	case len(a.ID) > 48:
		add(a.Line("id"), "id %q is longer than 48 characters", a.ID)
	}
	if a.Lang == "" {
		add(a.Line("lang"), "missing lang (e.g. en)")
	} else if !langRE.MatchString(a.Lang) {
		add(a.Line("lang"), "lang %q must be a two-letter code such as en or fr", a.Lang)
	}
	switch a.Kind {
	case KindTopic, KindRedirect:
	case "":
		add(a.Line("kind"), "missing kind (topic or redirect)")
	default:
		add(a.Line("kind"), "kind %q must be topic or redirect", a.Kind)
	}
	if a.Title == "" {
		add(a.Line("title"), "missing or empty title")
	}
	if a.Summary == "" {
		add(a.Line("summary"), "missing or empty summary")
	}
	if len(a.Questions) == 0 {
		add(a.Line("questions"), "no questions: give several ways users ask this")
	}
	for i, q := range a.Questions {
		if strings.TrimSpace(q) == "" {
			add(a.itemLine("questions", i), "empty question")
		}
	}
	if a.Kind == KindTopic && len(a.Sources) == 0 {
		add(a.Line("sources"), "a topic needs at least one official source URL")
	}
	for i, s := range a.Sources {
		if err := checkURL(s); err != nil {
			add(a.itemLine("sources", i), "source %q: %v", s, err)
		}
	}
	if a.Reviewed == "" {
		add(a.Line("reviewed"), "missing reviewed date (YYYY-MM-DD)")
	} else if _, err := time.Parse(time.DateOnly, a.Reviewed); err != nil {
		add(a.Line("reviewed"), "reviewed %q is not a date of the form YYYY-MM-DD", a.Reviewed)
	}
	if a.Until != "" {
		if _, err := time.Parse(time.DateOnly, a.Until); err != nil {
			add(a.Line("until"), "until %q is not a date of the form YYYY-MM-DD", a.Until)
		}
	}
	seen := map[string]bool{}
	for i, r := range a.Related {
		if r == a.ID {
			add(a.itemLine("related", i), "related lists the article itself")
		}
		if seen[r] {
			add(a.itemLine("related", i), "related lists %q twice", r)
		}
		seen[r] = true
	}
	return probs
}

func checkURL(s string) error {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("malformed URL")
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return fmt.Errorf("URL must start with https://")
	}
	if u.Host == "" || !strings.Contains(u.Host, ".") {
		return fmt.Errorf("URL has no valid host")
	}
	if strings.ContainsAny(s, " \t") {
		return fmt.Errorf("URL contains spaces")
	}
	return nil
}

func isUTF8Text(b []byte) bool {
	if bytes.IndexByte(b, 0) >= 0 {
		return false
	}
	return strings.ToValidUTF8(string(b), "\uFFFD") == string(b)
}

// Section is one part of an article's body: a heading (a "## " line, or a
// line that is only bold text, "**Refunds**") and the text under it. The
// text before the first heading is a section with no heading.
type Section struct {
	Heading string
	// Text is the section's Markdown, its heading line included.
	Text string
}

// Sections splits the body into its sections, in order.
func (a *Article) Sections() []Section {
	var out []Section
	var cur []string
	heading := ""
	flush := func() {
		t := strings.TrimSpace(strings.Join(cur, "\n"))
		if t != "" {
			out = append(out, Section{Heading: heading, Text: t})
		}
	}
	for _, line := range strings.Split(a.Body, "\n") {
		if h, ok := sectionHeading(line); ok {
			flush()
			heading, cur = h, []string{line}
			continue
		}
		cur = append(cur, line)
	}
	flush()
	return out
}

func sectionHeading(line string) (string, bool) {
	t := strings.TrimSpace(line)
	if strings.HasPrefix(t, "## ") {
		return strings.TrimSpace(strings.TrimLeft(t, "# ")), true
	}
	if len(t) > 4 && strings.HasPrefix(t, "**") && strings.HasSuffix(t, "**") && !strings.Contains(t[2:len(t)-2], "**") {
		return strings.TrimSpace(t[2 : len(t)-2]), true
	}
	return "", false
}

// ArticleLinkRE matches a cross-reference to another article in a body,
// "[Worker fees](article:worker-fees)": group 1 is the label, group 2 the ID.
var ArticleLinkRE = regexp.MustCompile(`\[([^\[\]]+)\]\(article:([a-z0-9-]+)\)`)

// bareIDs calls f with each word-like token of s that may be an article
// ID (letters, digits and inner hyphens, two characters or more) and its
// start offset. It is what the regular expression
// [A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9] finds, scanned by hand: the check
// runs over every line of every body at each load, and under the race
// detector the expression's backtracker cost a tenth of a test package's
// time (TestBareIDsLikeTheExpression compares the two).
func bareIDs(s string, f func(tok string, at int)) {
	isAlnum := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' }
	for i := 0; i < len(s); {
		if !isAlnum(s[i]) && s[i] != '-' {
			i++
			continue
		}
		j := i
		for j < len(s) && (isAlnum(s[j]) || s[j] == '-') {
			j++
		}
		a, b := i, j
		for a < b && s[a] == '-' {
			a++
		}
		for b > a && s[b-1] == '-' {
			b--
		}
		if b-a >= 2 {
			f(s[a:b], a)
		}
		i = j
	}
}

// checkBodyLinks reports article links to unknown articles and article IDs
// written bare in the body (a hyphenated ID such as worker-fees, or a
// one-word ID after "see"/"voir"): readers see IDs as jargon, so a
// cross-reference is written as a link, [Worker fees](article:worker-fees).
//
// broken tells whether an ID is that of an article whose file could not be
// loaded: a link to it is held back (counted by held), since the broken
// file's own problem is the one to fix.
func checkBodyLinks(a *Article, exists, broken func(id string) bool, held func()) Problems {
	var probs Problems
	bodyStart := a.bodyLine
	for i, line := range strings.Split(a.Body, "\n") {
		ln := bodyStart + i
		rest := line
		if strings.Contains(line, "](article:") {
			for _, m := range ArticleLinkRE.FindAllStringSubmatch(line, -1) {
				if !exists(m[2]) && broken != nil && broken(m[2]) {
					if held != nil {
						held()
					}
					continue
				}
				if !exists(m[2]) {
					probs = append(probs, Problem{File: a.File, Line: ln, Message: fmt.Sprintf("link to unknown article %q", m[2])})
				}
			}
			rest = ArticleLinkRE.ReplaceAllString(rest, "")
		}
		if strings.Contains(rest, "http") {
			rest = urlRE.ReplaceAllString(rest, "")
		}
		bareIDs(rest, func(tok string, at int) {
			if !exists(tok) {
				return
			}
			before := strings.ToLower(strings.TrimSpace(rest[:at]))
			if strings.Contains(tok, "-") || strings.HasSuffix(before, "see") || strings.HasSuffix(before, "voir") {
				probs = append(probs, Problem{File: a.File, Line: ln, Message: fmt.Sprintf("bare article id %q in the text: write a link, [Title](article:%s)", tok, tok)})
			}
		})
	}
	return probs
}

var urlRE = regexp.MustCompile(`\(?https?://[^\s)]+\)?`)

// articleFields are the front matter keys an article may have (its yaml
// tags).
var articleFields = func() map[string]bool {
	m := map[string]bool{}
	t := reflect.TypeFor[Article]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			m[name] = true
		}
	}
	return m
}()

// decodeStrict decodes a parsed front matter document into a, like a
// yaml.Decoder with KnownFields(true): an empty document is io.EOF, and a
// key the article does not have is an error beside the type errors, in
// line order.
func decodeStrict(doc *yaml.Node, a *Article) error {
	if len(doc.Content) == 0 {
		return io.EOF
	}
	type lineErr struct {
		line int
		msg  string
	}
	var unknown []lineErr
	if m := doc.Content[0]; m.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(m.Content); i += 2 {
			if k := m.Content[i]; k.Kind == yaml.ScalarNode && k.Tag != "!!merge" && !articleFields[k.Value] {
				unknown = append(unknown, lineErr{k.Line, fmt.Sprintf("line %d: field %s not found in type knowledge.Article", k.Line, k.Value)})
			}
		}
	}
	err := doc.Decode(a)
	if len(unknown) == 0 {
		return err
	}
	var te *yaml.TypeError
	if err != nil && !errors.As(err, &te) {
		return err
	}
	all := unknown
	if te != nil {
		for _, e := range te.Errors {
			line := 0
			if m := yamlLineRE.FindStringSubmatch(e); m != nil {
				line, _ = strconv.Atoi(m[1])
			}
			all = append(all, lineErr{line, e})
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].line < all[j].line })
	msgs := make([]string, len(all))
	for i, e := range all {
		msgs[i] = e.msg
	}
	return &yaml.TypeError{Errors: msgs}
}
