package index

import (
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/document"
	bindex "github.com/blevesearch/bleve_index_api"
	"github.com/blevesearch/segment"

	"github.com/impbot/impbot/knowledge"
)

// maxBatchDocs bounds the Bleve documents (articles and questions) of one
// batch. A batch holds its documents' analysed tokens until Bleve has built
// its segment, so a whole knowledge in one batch costs memory in proportion
// to its size (1.8 GB peak for 10,000 synthetic articles, 110,000
// documents); each batch becomes one in-memory segment that every search
// visits, so batches should not be small either. Measured on 10,000
// synthetic articles: peak RSS about 0.6-0.7 GB at 8,000-12,000, 0.8-0.9 GB
// at 16,000, 1 GB at 24,000. The shipped knowledge (about 2,300 documents
// per language) is one batch.
var maxBatchDocs = 10000

// indexArticles analyses each text of the articles once, in parallel,
// gives Bleve the analysed tokens in batches of at most maxBatchDocs
// documents (the next batch is analysed while Bleve indexes the previous
// one), and gathers the articles' statistics (li.docs, li.df) from the same
// tokens. It returns the articles' words with how often each occurs (the
// typo corrector's vocabulary, before the synonyms and domain words).
func (li *langIndex) indexArticles(arts []*knowledge.Article) (map[string]int, error) {
	da, ok := li.analyzer.(*analysis.DefaultAnalyzer)
	if !ok {
		return nil, fmt.Errorf("analyzer %T: want a Bleve DefaultAnalyzer", li.analyzer)
	}
	workers := runtime.GOMAXPROCS(0)
	ws := make([]*buildWorker, workers)
	for i := range ws {
		ws[i] = &buildWorker{an: newBuildAnalyzer(da), df: map[string]int{}, vocab: map[string]*int{}}
	}
	stats := make([]*docStats, len(arts))

	pending := false
	batchErr := make(chan error, 1)
	wait := func() error {
		if !pending {
			return nil
		}
		pending = false
		return <-batchErr
	}
	for lo := 0; lo < len(arts); {
		hi, docs := lo, 0
		for hi < len(arts) && (hi == lo || docs+1+len(arts[hi].Questions) <= maxBatchDocs) {
			docs += 1 + len(arts[hi].Questions)
			hi++
		}
		bdocs := make([][]*document.Document, hi-lo)
		var next atomic.Int64
		next.Store(int64(lo))
		var wg sync.WaitGroup
		for _, w := range ws {
			wg.Go(func() {
				for {
					i := int(next.Add(1) - 1)
					if i >= hi {
						return
					}
					stats[i], bdocs[i-lo] = w.article(arts[i])
				}
			})
		}
		wg.Wait()
		if err := wait(); err != nil {
			return nil, fmt.Errorf("index batch: %w", err)
		}
		b := li.bi.NewBatch()
		for _, ds := range bdocs {
			for _, d := range ds {
				if err := b.IndexAdvanced(d); err != nil {
					return nil, fmt.Errorf("index %s: %w", d.ID(), err)
				}
			}
		}
		pending = true
		go func() { batchErr <- li.bi.Batch(b) }()
		lo = hi
	}
	if err := wait(); err != nil {
		return nil, fmt.Errorf("index batch: %w", err)
	}
	for i, a := range arts {
		li.docs[a.ID] = stats[i]
	}
	vocab := map[string]int{}
	for _, w := range ws {
		for t, n := range w.df {
			li.df[t] += n
		}
		for v, n := range w.vocab {
			vocab[v] += *n
		}
	}
	return vocab, nil
}

// questionDocID is the Bleve document ID of an article's question qi: the
// questions are indexed one document each, so that an article with many
// phrasings is not penalised by BM25's length normalisation of one long
// field; an article scores by its best.
func questionDocID(id string, qi int) string { return id + "#" + strconv.Itoa(qi) }

// buildWorker analyses articles; its maps are its own (merged at the end).
type buildWorker struct {
	an    *buildAnalyzer
	df    map[string]int  // articles per term
	vocab map[string]*int // the articles' words (see words), with their counts
	seen  map[string]bool
	buf   []byte
}

// article analyses one article: its statistics and its Bleve documents
// (the article, then one per question).
func (w *buildWorker) article(a *knowledge.Article) (*docStats, []*document.Document) {
	ds := &docStats{article: a}
	all := []string{}
	doc := document.NewDocument(a.ID)
	field := func(d *document.Document, name string, ts analysis.TokenStream) {
		if len(ts) > 0 {
			d.AddField(document.NewTextFieldCustom(name, nil, nil, bindex.IndexField, analysed(ts)))
		}
	}
	kind := func(d *document.Document) {
		d.AddField(document.NewTextFieldCustom("kind", nil, []byte(a.Kind), bindex.IndexField, nil))
	}
	ts, terms := w.an.analyze(a.Title)
	field(doc, "title", ts)
	ds.questions = append(ds.questions, sortedSet(terms))
	all = append(all, terms...)
	ts, terms = w.an.analyze(strings.Join(a.Keywords, "\n"))
	field(doc, "keywords", ts)
	all = append(all, terms...)
	ts, terms = w.an.analyze(a.Summary)
	field(doc, "summary", ts)
	all = append(all, terms...)
	// The body's terms are its sections' (they split it by lines, and no
	// word spans two lines); Bleve does not index it (see fieldBoosts).
	for si, sec := range a.Sections() {
		terms := w.an.terms(sec.Text)
		all = append(all, terms...)
		if strings.Count(strings.TrimSpace(sec.Text), "\n") == 0 && sec.Heading != "" {
			continue // a heading without text is never shown alone
		}
		ds.sections = append(ds.sections, sectionStats{idx: si, terms: sortedSet(terms)})
	}
	kind(doc)
	docs := make([]*document.Document, 0, 1+len(a.Questions))
	docs = append(docs, doc)
	for qi, q := range a.Questions {
		ts, terms := w.an.analyze(q)
		qd := document.NewDocument(questionDocID(a.ID, qi))
		field(qd, "questions", ts)
		kind(qd)
		docs = append(docs, qd)
		ds.questions = append(ds.questions, sortedSet(terms))
		all = append(all, terms...)
	}
	ds.terms = w.unique(all)
	for _, t := range ds.terms {
		w.df[t]++
	}
	for _, f := range [...]string{a.Title, a.Summary, a.Body} {
		w.words(f)
	}
	for _, f := range a.Questions {
		w.words(f)
	}
	for _, f := range a.Keywords {
		w.words(f)
	}
	return ds, docs
}

// unique is terms without repeats, sorted.
func (w *buildWorker) unique(terms []string) []string {
	if w.seen == nil {
		w.seen = map[string]bool{}
	}
	clear(w.seen)
	out := make([]string, 0, len(terms)/2)
	for _, t := range terms {
		if !w.seen[t] {
			w.seen[t] = true
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return slices.Clip(out)
}

// words counts the words of s as words(s) splits them, without building
// them for ASCII text (where folding accents does nothing and only ASCII
// letters and digits are letters and digits).
func (w *buildWorker) words(s string) {
	if !isASCII(s) {
		for _, v := range words(s) {
			w.count(v)
		}
		return
	}
	buf := w.buf[:0]
	for i := 0; i <= len(s); i++ {
		if i < len(s) {
			c := s[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if 'a' <= c && c <= 'z' || '0' <= c && c <= '9' {
				buf = append(buf, c)
				continue
			}
		}
		if len(buf) > 0 {
			if n, ok := w.vocab[string(buf)]; ok {
				*n++
			} else {
				w.vocab[string(buf)] = new(1)
			}
			buf = buf[:0]
		}
	}
	w.buf = buf
}

func (w *buildWorker) count(v string) {
	if n, ok := w.vocab[v]; ok {
		*n++
	} else {
		w.vocab[v] = new(1)
	}
}

// sortedSet is terms sorted, without repeats (terms is left as it is).
func sortedSet(terms []string) []string {
	s := slices.Clone(terms)
	slices.Sort(s)
	return slices.Clip(slices.Compact(s))
}

// analysed is a Bleve analyser that returns tokens analysed beforehand, so
// that Bleve indexes the very tokens the statistics were taken from.
type analysed analysis.TokenStream

func (a analysed) Analyze([]byte) analysis.TokenStream { return analysis.TokenStream(a) }

// buildAnalyzer is a language's Bleve analyser with two shortcuts that do
// not change its result: the character filters (accent folding) are
// skipped for ASCII text, which they leave as it is, and the token filters
// (possessive or elision, lower case, stop words, stemming), which each
// treat one token at a time, run once per distinct token and are then
// looked up. TestBuildAnalyzerIsBleves checks both against the analyser
// itself over the whole knowledge. It is not safe for concurrent use.
type buildAnalyzer struct {
	a     *analysis.DefaultAnalyzer
	cache map[string]filtered
}

type filtered struct {
	terms [][]byte // the filtered terms (shared by the tokens: never modified); none for a stop word
	strs  []string // the same as strings, empty ones left out
}

func newBuildAnalyzer(a *analysis.DefaultAnalyzer) *buildAnalyzer {
	return &buildAnalyzer{a: a, cache: map[string]filtered{}}
}

// analyze gives the text's tokens as Bleve's analyser would, and their
// terms as langIndex.analyze would (empty terms left out).
func (b *buildAnalyzer) analyze(s string) (analysis.TokenStream, []string) {
	if s == "" {
		return nil, nil
	}
	in := []byte(s)
	if !isASCII(s) {
		for _, cf := range b.a.CharFilters {
			in = cf.Filter(in)
		}
	}
	toks := b.a.Tokenizer.Tokenize(in)
	out := make(analysis.TokenStream, 0, len(toks))
	terms := make([]string, 0, len(toks))
	for _, t := range toks {
		f, ok := b.cache[string(t.Term)]
		if !ok {
			f = b.filter(t)
		}
		switch len(f.terms) {
		case 0:
			continue
		case 1:
			t.Term = f.terms[0]
			out = append(out, t)
		default: // no filter of ours splits a token, but one might
			for _, term := range f.terms {
				c := *t
				c.Term = term
				out = append(out, &c)
			}
		}
		terms = append(terms, f.strs...)
	}
	return out, terms
}

// terms is the second result of analyze, without making the tokens: the
// body's words are the most, and Bleve does not index them.
func (b *buildAnalyzer) terms(s string) []string {
	if _, ok := b.a.Tokenizer.(*unicode.UnicodeTokenizer); !ok || s == "" {
		_, terms := b.analyze(s)
		return terms
	}
	in := []byte(s)
	if !isASCII(s) {
		for _, cf := range b.a.CharFilters {
			in = cf.Filter(in)
		}
	}
	// As the unicode tokenizer reads its words.
	terms := make([]string, 0, len(in)/6)
	seg := segment.NewWordSegmenterDirect(in)
	for seg.Segment() {
		if seg.Type() == segment.None {
			continue
		}
		word := seg.Bytes()
		f, ok := b.cache[string(word)]
		if !ok {
			f = b.filter(&analysis.Token{Term: word, Position: 1, End: len(word), Type: tokenType(seg.Type())})
		}
		terms = append(terms, f.strs...)
	}
	return terms
}

// tokenType is the unicode tokenizer's token type for a segment type.
func tokenType(segType int) analysis.TokenType {
	switch segType {
	case segment.Ideo, segment.Kana:
		return analysis.Ideographic
	case segment.Number:
		return analysis.Numeric
	}
	return analysis.AlphaNumeric
}

// filter runs the token filters over one token and remembers the result.
func (b *buildAnalyzer) filter(t *analysis.Token) filtered {
	key := string(t.Term)
	one := *t
	one.Term = []byte(key)
	ts := analysis.TokenStream{&one}
	for _, tf := range b.a.TokenFilters {
		ts = tf.Filter(ts)
	}
	var f filtered
	for _, r := range ts {
		term := string(r.Term)
		f.terms = append(f.terms, []byte(term))
		if term != "" {
			f.strs = append(f.strs, term)
		}
	}
	b.cache[key] = f
	return f
}
