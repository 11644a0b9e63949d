package knowledge

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"go.yaml.in/yaml/v3"
)

// Shipped is the knowledge embedded in the binary.
//
//go:embed en fr *.yaml
var Shipped embed.FS

// DomainFile is the name of the file listing the domain's own words.
const DomainFile = "domain.yaml"

// SynonymsFile is the name of the synonyms file at the top of a knowledge folder.
const SynonymsFile = "synonyms.yaml"

// Base is a loaded, validated knowledge folder.
type Base struct {
	// Source names where it was loaded from ("embedded" or a folder path).
	Source string
	// Articles by language, sorted by ID.
	Articles map[string][]*Article
	// Synonyms by language: groups of terms that mean the same thing.
	Synonyms map[string][][]string
	// Domain by language: words that signal a question is in scope.
	Domain map[string][]string
	// Emoji by language: the words an emoji stands for in a question
	// (emoji.yaml), keyed without variation selectors (EmojiKey).
	Emoji map[string]map[string]string
	// Unrelated by language: examples of questions the bot must not answer
	// with an article (<lang>/unrelated.yaml), learned as a class of their
	// own by the ranker.
	Unrelated map[string][]string
	// Files holds the other top-level files (e.g. eligibility.yaml) by name,
	// for the packages that interpret them, with fact references substituted.
	Files map[string][]byte
	// Facts are the fees, codes, ages and dates of facts.yaml (nil without
	// one). Articles and other files refer to them as {{name}}.
	Facts *Facts
	// Skipped lists entries that were not read because they are not
	// regular files (named pipes, devices, sockets, symbolic link loops).
	Skipped Problems

	byID map[string]map[string]*Article
	// broken holds, by language and ID (the file name), the article files
	// that could not be parsed and were dropped: problems elsewhere that
	// only follow from their absence are held back.
	broken   map[string]map[string]string
	heldBack *atomic.Int64
}

// Broken returns the file of the article id in lang (or English) that could
// not be parsed and was dropped, or "" when there is none.
func (b *Base) Broken(lang, id string) string {
	if f := b.broken[lang][id]; f != "" {
		return f
	}
	return b.broken["en"][id]
}

// HoldBack counts a problem that is not reported because it follows from a
// broken article (see Broken): a reference to it, for instance.
func (b *Base) HoldBack() {
	if b.heldBack != nil {
		b.heldBack.Add(1)
	}
}

// HeldBack is the number of problems held back (see HoldBack).
func (b *Base) HeldBack() int {
	if b.heldBack == nil {
		return 0
	}
	return int(b.heldBack.Load())
}

// Langs lists the languages that have articles, sorted, English first.
func (b *Base) Langs() []string {
	var ls []string
	for l := range b.Articles {
		ls = append(ls, l)
	}
	sort.Slice(ls, func(i, j int) bool {
		if (ls[i] == "en") != (ls[j] == "en") {
			return ls[i] == "en"
		}
		return ls[i] < ls[j]
	})
	return ls
}

// Article returns the article with this ID in this language, falling back to
// English when the language has no such article.
func (b *Base) Article(lang, id string) *Article {
	if a := b.byID[lang][id]; a != nil {
		return a
	}
	return b.byID["en"][id]
}

// Count returns the number of articles in all languages.
func (b *Base) Count() int {
	n := 0
	for _, as := range b.Articles {
		n += len(as)
	}
	return n
}

// LoadShipped loads the embedded knowledge. It fails only if the shipped files
// are broken, which the tests prevent.
func LoadShipped() (*Base, error) {
	b, probs := Load(Shipped, "knowledge")
	if len(probs) > 0 {
		return nil, fmt.Errorf("embedded knowledge: %w", probs)
	}
	b.Source = "embedded"
	return b, nil
}

// LoadDir loads a knowledge folder from disk within the default limits.
func LoadDir(dir string) (*Base, Problems) {
	return LoadDirLimits(dir, DefaultLimits())
}

// LoadDirLimits loads a knowledge folder from disk within lim (zero fields
// take the defaults). Only regular files are read: anything else is
// skipped and listed in Base.Skipped.
func LoadDirLimits(dir string, lim Limits) (*Base, Problems) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, Problems{{File: dir, Line: 0, Message: fmt.Sprintf("cannot read knowledge folder: %v", err)}}
	}
	if !st.IsDir() {
		return nil, Problems{{File: dir, Line: 0, Message: "not a folder"}}
	}
	b, probs := LoadLimits(regularFS(dir), dir, lim)
	if b != nil {
		b.Source = dir
	}
	return b, probs
}

// Load reads a knowledge folder from fsys within the default limits. name
// prefixes file names in problems. It returns every problem found; the Base
// is usable only when there are none.
func Load(fsys fs.FS, name string) (*Base, Problems) {
	return LoadLimits(fsys, name, DefaultLimits())
}

// LoadLimits is Load within lim.
func LoadLimits(fsys fs.FS, name string, lim Limits) (*Base, Problems) {
	rd := &reader{fsys: fsys, lim: lim.withDefaults()}
	b := &Base{
		Articles:  map[string][]*Article{},
		Synonyms:  map[string][][]string{},
		Domain:    map[string][]string{},
		Emoji:     map[string]map[string]string{},
		Unrelated: map[string][]string{},
		Files:     map[string][]byte{},
		byID:      map[string]map[string]*Article{},
		broken:    map[string]map[string]string{},
		heldBack:  new(atomic.Int64),
	}
	var probs Problems
	disp := func(p string) string { return path.Join(name, p) }
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, Problems{{File: name, Message: fmt.Sprintf("cannot read folder: %v", err)}}
	}
	// Facts first: the other files refer to them. Read within the limits,
	// like every other file.
	if _, err := fs.Stat(fsys, FactsFile); err == nil {
		data, prob, skip := rd.read(FactsFile, disp(FactsFile), false)
		switch {
		case skip:
			b.Skipped = append(b.Skipped, *prob)
		case prob != nil:
			probs = append(probs, *prob)
		default:
			var ps Problems
			b.Facts, ps = ParseFacts(disp(FactsFile), data)
			probs = append(probs, ps...)
		}
	}
	for _, e := range entries {
		n := e.Name()
		isDir := e.IsDir()
		if e.Type()&fs.ModeSymlink != 0 && langRE.MatchString(n) {
			// A language folder may be a link (a deploy that swaps
			// folders): the system resolves it once; a loop is skipped.
			st, err := fs.Stat(fsys, n)
			if err != nil {
				b.Skipped = append(b.Skipped, Problem{File: disp(n), Message: "skipped: " + err.Error()})
				continue
			}
			isDir = st.IsDir()
		}
		switch {
		case n == FactsFile:
			continue // read first, above
		case isDir && langRE.MatchString(n):
			ps := b.loadLang(rd, n, disp)
			probs = append(probs, ps...)
		case isDir:
			continue
		case n == SynonymsFile || n == DomainFile || strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml"):
			data, prob, skip := rd.read(n, disp(n), false)
			if skip {
				b.Skipped = append(b.Skipped, *prob)
				continue
			}
			if prob != nil {
				probs = append(probs, *prob)
				continue
			}
			var ps Problems
			switch n {
			case SynonymsFile:
				b.Synonyms, ps = ParseSynonyms(disp(n), data)
			case DomainFile:
				b.Domain, ps = ParseDomain(disp(n), data)
			case EmojiFile:
				b.Emoji, ps = ParseEmoji(disp(n), data)
			default:
				data, ps = b.Facts.ExpandYAML(disp(n), data)
				b.Files[n] = data
			}
			probs = append(probs, ps...)
		}
	}
	if b.Count() == 0 && len(probs) == 0 {
		probs = append(probs, Problem{File: name, Message: "no articles found (expected <lang>/<id>.md, e.g. en/pgwp.md)"})
	}
	// An unrelated example that is also an article's question would teach
	// the ranker two answers for one question.
	for lang, exs := range b.Unrelated {
		qs := map[string]string{}
		for _, a := range b.Articles[lang] {
			for _, q := range a.Questions {
				qs[strings.ToLower(strings.Join(strings.Fields(q), " "))] = a.ID
			}
		}
		for _, ex := range exs {
			if id, ok := qs[strings.ToLower(ex)]; ok {
				probs = append(probs, Problem{File: disp(path.Join(lang, UnrelatedFile)), Line: 1, Message: fmt.Sprintf("example %q is also a question of article %q", ex, id)})
			}
		}
	}
	// Article links must name an article; article IDs are not prose.
	for _, lang := range b.Langs() {
		for _, a := range b.Articles[lang] {
			probs = append(probs, checkBodyLinks(a,
				func(id string) bool { return b.byID[lang][id] != nil || b.byID["en"][id] != nil },
				func(id string) bool { return b.Broken(lang, id) != "" },
				b.HoldBack)...)
		}
	}
	probs = append(probs, b.checkTwins()...)
	// Cross-file checks: related IDs must exist in the same language.
	for _, lang := range b.Langs() {
		for _, a := range b.Articles[lang] {
			for i, r := range a.Related {
				if b.byID[lang][r] == nil && b.byID["en"][r] == nil {
					if b.Broken(lang, r) != "" {
						b.HoldBack() // the broken file's own problem is the one to fix
						continue
					}
					probs = append(probs, Problem{File: a.File, Line: a.itemLine("related", i), Message: fmt.Sprintf("related id %q is not an article", r)})
				}
			}
		}
	}
	return b, probs.sorted()
}

func (b *Base) loadLang(rd *reader, lang string, disp func(string) string) Problems {
	var probs Problems
	entries, err := fs.ReadDir(rd.fsys, lang)
	if err != nil {
		return Problems{{File: disp(lang), Message: err.Error()}}
	}
	if b.byID[lang] == nil {
		b.byID[lang] = map[string]*Article{}
	}
	var files []parsedFile
	for _, e := range entries {
		if e.Name() == UnrelatedFile && !e.IsDir() {
			p := path.Join(lang, e.Name())
			data, prob, _ := rd.read(p, disp(p), false)
			if prob != nil {
				probs = append(probs, *prob)
				continue
			}
			var ps Problems
			b.Unrelated[lang], ps = ParseUnrelated(disp(p), data)
			probs = append(probs, ps...)
			continue
		}
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".md") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		p := path.Join(lang, e.Name())
		data, prob, skip := rd.read(p, disp(p), true)
		if skip {
			b.Skipped = append(b.Skipped, *prob)
			continue
		}
		if prob != nil {
			probs = append(probs, *prob)
			continue
		}
		files = append(files, parsedFile{name: e.Name(), path: p, data: data})
	}
	// The files are read in order (the limits count them); parsing, the
	// bulk of a load, runs on every core.
	parseFiles(files, func(f *parsedFile) {
		f.data, f.used, f.expandProbs = b.Facts.expandArticle(disp(f.path), lang, f.data)
		f.a, f.parseProbs = ParseArticle(disp(f.path), f.data)
	})
	for i := range files {
		f := &files[i]
		probs = append(probs, f.expandProbs...)
		probs = append(probs, f.parseProbs...)
		a := f.a
		if a != nil {
			a.Facts = f.used
		}
		if a == nil {
			if b.broken[lang] == nil {
				b.broken[lang] = map[string]string{}
			}
			b.broken[lang][strings.TrimSuffix(f.name, ".md")] = disp(f.path)
			continue
		}
		if want := strings.TrimSuffix(f.name, ".md"); a.ID != "" && a.ID != want {
			probs = append(probs, Problem{File: a.File, Line: a.Line("id"), Message: fmt.Sprintf("id %q does not match the file name %q", a.ID, f.name)})
		}
		if a.Lang != "" && a.Lang != lang {
			probs = append(probs, Problem{File: a.File, Line: a.Line("lang"), Message: fmt.Sprintf("lang %q does not match the folder %q", a.Lang, lang)})
		}
		if prev := b.byID[lang][a.ID]; prev != nil && a.ID != "" {
			probs = append(probs, Problem{File: a.File, Line: a.Line("id"), Message: fmt.Sprintf("duplicate id %q (also in %s)", a.ID, prev.File)})
			continue
		}
		b.byID[lang][a.ID] = a
		b.Articles[lang] = append(b.Articles[lang], a)
	}
	sort.Slice(b.Articles[lang], func(i, j int) bool { return b.Articles[lang][i].ID < b.Articles[lang][j].ID })
	return probs
}

// perLanguage parses a file that maps language codes to lists, e.g.
// `en: [...]`, checks its shape and calls each for every language's list.
// what names the list's items for messages ("synonym groups").
func perLanguage(file string, data []byte, what string, each func(lang string, list *yaml.Node) Problems) Problems {
	var node yaml.Node
	if err := yaml.Unmarshal(data, &node); err != nil {
		return Problems{yamlProblem(file, err)}
	}
	if len(node.Content) == 0 {
		return nil
	}
	top := node.Content[0]
	if top.Kind != yaml.MappingNode {
		return Problems{{File: file, Line: top.Line, Message: "expected a mapping of language code to a list of " + what}}
	}
	var probs Problems
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		if !langRE.MatchString(k.Value) {
			probs = append(probs, Problem{File: file, Line: k.Line, Message: fmt.Sprintf("%q is not a two-letter language code", k.Value)})
			continue
		}
		if v.Kind != yaml.SequenceNode {
			probs = append(probs, Problem{File: file, Line: v.Line, Message: "expected a list of " + what})
			continue
		}
		probs = append(probs, each(k.Value, v)...)
	}
	return probs
}

// ParseSynonyms parses the synonyms file: for each language, a list of groups
// of terms that mean the same thing, e.g. `en: [[owp, open work permit]]`.
func ParseSynonyms(file string, data []byte) (map[string][][]string, Problems) {
	out := map[string][][]string{}
	probs := perLanguage(file, data, "synonym groups", func(lang string, list *yaml.Node) Problems {
		var probs Problems
		seen := map[string]int{}
		for _, g := range list.Content {
			if g.Kind != yaml.SequenceNode {
				probs = append(probs, Problem{File: file, Line: g.Line, Message: "a group must be a list of terms, e.g. [owp, open work permit]"})
				continue
			}
			var group []string
			for _, t := range g.Content {
				term := strings.ToLower(strings.Join(strings.Fields(t.Value), " "))
				if t.Kind != yaml.ScalarNode || term == "" {
					probs = append(probs, Problem{File: file, Line: t.Line, Message: "empty or non-text term"})
					continue
				}
				if prev, ok := seen[term]; ok {
					probs = append(probs, Problem{File: file, Line: t.Line, Message: fmt.Sprintf("term %q already in the group starting on line %d", term, prev)})
					continue
				}
				seen[term] = g.Line
				group = append(group, term)
			}
			if len(group) < 2 && len(g.Content) > 0 {
				probs = append(probs, Problem{File: file, Line: g.Line, Message: "a group needs at least two terms"})
				continue
			}
			out[lang] = append(out[lang], group)
		}
		return probs
	})
	return out, probs
}

// UnrelatedFile is the per-language file (<lang>/unrelated.yaml) of
// questions the bot must not answer with an article.
const UnrelatedFile = "unrelated.yaml"

// ParseUnrelated parses an unrelated-examples file: a YAML list of questions.
func ParseUnrelated(file string, data []byte) ([]string, Problems) {
	var node yaml.Node
	if err := yaml.Unmarshal(data, &node); err != nil {
		return nil, Problems{yamlProblem(file, err)}
	}
	if len(node.Content) == 0 {
		return nil, nil
	}
	top := node.Content[0]
	if top.Kind != yaml.SequenceNode {
		return nil, Problems{{File: file, Line: top.Line, Message: "expected a list of example questions, e.g. - Where can I buy a fishing licence?"}}
	}
	var out []string
	var probs Problems
	seen := map[string]int{}
	for _, t := range top.Content {
		q := strings.Join(strings.Fields(t.Value), " ")
		if t.Kind != yaml.ScalarNode || q == "" {
			probs = append(probs, Problem{File: file, Line: t.Line, Message: "empty or non-text example"})
			continue
		}
		k := strings.ToLower(q)
		if prev, ok := seen[k]; ok {
			probs = append(probs, Problem{File: file, Line: t.Line, Message: fmt.Sprintf("example repeated (first on line %d)", prev)})
			continue
		}
		seen[k] = t.Line
		out = append(out, q)
	}
	return out, probs
}

// ParseDomain parses the domain-words file: for each language, a list of
// words or short phrases.
func ParseDomain(file string, data []byte) (map[string][]string, Problems) {
	out := map[string][]string{}
	probs := perLanguage(file, data, "words", func(lang string, list *yaml.Node) Problems {
		var probs Problems
		for _, t := range list.Content {
			w := strings.ToLower(strings.TrimSpace(t.Value))
			if t.Kind != yaml.ScalarNode || w == "" {
				probs = append(probs, Problem{File: file, Line: t.Line, Message: "empty or non-text word"})
				continue
			}
			out[lang] = append(out[lang], w)
		}
		return probs
	})
	return out, probs
}

// Subset returns a copy of the base that keeps only the article questions
// and unrelated examples the functions accept (i is the item's position).
// Cross-validation uses it to hold phrasings out.
func (b *Base) Subset(keepQuestion func(lang, id string, i int) bool, keepUnrelated func(lang string, i int) bool) *Base {
	nb := &Base{
		Source:    b.Source,
		Articles:  map[string][]*Article{},
		Synonyms:  b.Synonyms,
		Domain:    b.Domain,
		Emoji:     b.Emoji,
		Unrelated: map[string][]string{},
		Files:     b.Files,
		byID:      map[string]map[string]*Article{},
	}
	for lang, as := range b.Articles {
		nb.byID[lang] = map[string]*Article{}
		for _, a := range as {
			c := *a
			c.Questions = nil
			for i, q := range a.Questions {
				if keepQuestion(lang, a.ID, i) {
					c.Questions = append(c.Questions, q)
				}
			}
			nb.Articles[lang] = append(nb.Articles[lang], &c)
			nb.byID[lang][c.ID] = &c
		}
	}
	for lang, us := range b.Unrelated {
		for i, u := range us {
			if keepUnrelated(lang, i) {
				nb.Unrelated[lang] = append(nb.Unrelated[lang], u)
			}
		}
	}
	return nb
}

// yamlProblem turns a YAML parse error into a problem at the line it names
// (line 1 when it names none).
func yamlProblem(file string, err error) Problem {
	line := 1
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		fmt.Sscan(m[1], &line)
	}
	return Problem{File: file, Line: line, Message: strings.TrimPrefix(err.Error(), "yaml: ")}
}

// parsedFile is one article file of a language folder as it is read, then
// parsed.
type parsedFile struct {
	name, path  string
	data        []byte
	used        []string
	a           *Article
	expandProbs Problems
	parseProbs  Problems
}

// parseFiles calls parse for each file, on as many goroutines as there
// are cores.
func parseFiles(files []parsedFile, parse func(*parsedFile)) {
	workers := min(runtime.GOMAXPROCS(0), len(files))
	if workers <= 1 {
		for i := range files {
			parse(&files[i])
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(files); i = int(next.Add(1) - 1) {
				parse(&files[i])
			}
		})
	}
	wg.Wait()
}
