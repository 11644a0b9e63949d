// Package index builds the Bleve search index over the knowledge articles and
// answers questions with ranked, scored hits. User text is analyzed into
// terms and searched with term queries only: it never reaches Bleve's
// query-string syntax.
package index

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/char/asciifolding"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/lang/fr"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/porter"
	"github.com/blevesearch/bleve/v2/analysis/token/stop"
	utok "github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/analysis/tokenmap"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"

	bindex "github.com/blevesearch/bleve_index_api"

	"github.com/impbot/impbot/index/spell"
	"github.com/impbot/impbot/knowledge"
)

// Field boosts: how much a match in each field counts.
var fieldBoosts = [...]struct {
	name  string
	boost float64
}{
	{"title", 3},
	{"questions", 3},
	{"keywords", 2.5},
	{"summary", 1.5},
}

// The body is neither queried nor given to Bleve: it is the longest field,
// so querying it costs the most (about a fifth of the search time) and,
// measured on the question sets, adds nothing to finding candidates;
// indexing it was half of Bleve's build work and memory. Its words still
// count through each article's coverage of the question (build.go).
func queriedFields() []string {
	names := make([]string, len(fieldBoosts))
	for i, f := range fieldBoosts {
		names[i] = f.name
	}
	return names
}

// unknownFactor is how much a word unknown to the knowledge weighs against a
// match, relative to a known word of the same rarity.
const unknownFactor = 0.5

// frenchExtraStop lists French words that carry no subject.
const frenchExtraStop = `a ai as avez avoir ont comment faire fait fais faites peux peut puis pouvez peuvent
dois doit devez doivent faut quel quelle quels quelles quoi est-ce ça ca cela ceci svp stp merci bonjour salut
bonsoir oui non si alors donc aussi encore tres très bien tout tous toute toutes chez sais savoir veux veut
voudrais aimerais j'ai c'est qu'est-ce vraiment juste genre lol`

// MaxQueryRunes bounds the user text that is analyzed; longer text is cut.
const MaxQueryRunes = 2000

// relFloor is the Bleve score from which the best hit counts as a full match.
var relFloor = 1.0

// maxBleveTerms bounds the terms sent to Bleve for one question.
const maxBleveTerms = 8

// candidates is how many articles Bleve returns for re-ranking.
const candidates = 40

// maxTerms bounds the terms of one query.
const maxTerms = 48

// Index is an immutable search index over one knowledge base. It is safe for
// concurrent use. Rebuild and swap to change it.
type Index struct {
	base  *knowledge.Base
	langs map[string]*langIndex
}

type langIndex struct {
	lang     string
	emoji    *strings.Replacer // emoji.yaml's words for emoji in questions (nil: none)
	bi       bleve.Index
	analyzer analysis.Analyzer
	n        int
	df       map[string]int
	idfs     map[string]float64
	docs     map[string]*docStats
	anchors  map[string]bool // the domain's own words (domain.yaml and synonyms)
	// termIDs numbers the terms of the articles (in term order), so that
	// matching a question against an article compares integers.
	termIDs  map[string]int32
	synonyms []synGroup
	// synByFirst lists the synonym terms by their first word.
	synByFirst map[string][]synTerm
	// vocab counts the knowledge's words (accent-folded, lower case).
	vocab map[string]int
	// wordCache holds the analyzed terms of every word of the knowledge
	// when the ranker was trained here (nil when it came from the cache).
	wordCache map[string][]string
	lazyTerms sync.Map // word -> []string, for words of vocab met at query time
	corrector *spell.Corrector
	rank      RankConfig
	model     *model
	fromCache bool // opened from the index cache (indexcache.go)
	toCache   bool // built and written to the index cache

	// reader is a snapshot of the Bleve index, held open for the index's
	// life: its internal document numbers stay valid while it is open.
	reader   bindex.IndexReader
	docTotal uint64                       // documents in the Bleve index
	fields   [len(fieldBoosts)]queryField // the queried fields' BM25 figures
	fieldDF  map[string]*termFields       // each term's document counts and postings by queried field
	docArt   []int32                      // Bleve document number -> index into artIDs, -1 for none
	artIDs   []string                     // the articles' IDs, in the knowledge's order
	scratch  sync.Pool
}

// queryField is one queried field with Bleve's BM25 figures for it.
type queryField struct {
	name   string
	avgLen float64 // Bleve's average field length (rounded up)
}

type docStats struct {
	article *knowledge.Article
	// terms and questions are the article's terms and each of its
	// questions' (the title first) while the index is built; termSet and
	// questionSets are the same as sorted term IDs, for searching.
	terms        []string   // sorted
	questions    [][]string // each sorted
	termSet      []int32
	questionSets [][]int32
	qweights     []float64 // sum of the idf of each question's terms
	// qTerms are the term IDs of the article's questions (and title),
	// sorted; qBits holds, qStride words per term, the bitset of the
	// questions (index into questionSets) that have that term. A question's
	// overlap with a concept is then found for all questions at once.
	qTerms  []int32
	qBits   []uint64
	qStride int
	// sections holds the terms of each of the article's sections that has
	// text under its heading (index into Article.Sections()).
	sections []sectionStats
}

type sectionStats struct {
	idx   int
	terms []string // while the index is built (sorted)
	set   []int32  // the terms' IDs, sorted
}

// synTerm is one term of a synonym group.
type synTerm struct{ group, term int }

// synGroup is one group of equivalent terms, each term as its words (for
// matching in the user's text) and its analyzed terms (for searching).
type synGroup struct {
	words [][]string
	terms [][]string
	// own holds each term's words analyzed as the user's own (joined by
	// spaces), filled when a question first names it.
	own []atomic.Pointer[[]string]
}

func analyzerFor(lang string) (name string, def map[string]any) {
	switch lang {
	case "fr":
		// Accents are folded first, on articles and questions alike (people
		// type "infirmiere", "lie", "frontiere" on phones); the stop list
		// below holds the folded forms of the standard French stop words.
		return "imp_fr", map[string]any{
			"type":          custom.Name,
			"char_filters":  []any{asciifolding.Name},
			"tokenizer":     utok.Name,
			"token_filters": []any{fr.ElisionName, lowercase.Name, fr.StopName, "imp_fr_stop", fr.LightStemmerName},
		}
	default:
		return "imp_en", map[string]any{
			"type":          custom.Name,
			"char_filters":  []any{asciifolding.Name},
			"tokenizer":     utok.Name,
			"token_filters": []any{en.PossessiveName, lowercase.Name, en.StopName, porter.Name},
		}
	}
}

// Build indexes every language of the knowledge base and trains its ranker.
func Build(b *knowledge.Base) (*Index, error) { return BuildWith(b, DefaultRank) }

// BuildWith is Build with another ranker configuration.
func BuildWith(b *knowledge.Base, cfg RankConfig) (*Index, error) { return build(b, cfg, CacheDir) }

// build indexes the knowledge; cache is the cache folder its indexes and
// trained models are read from and written to ("": none, as for
// cross-validation folds). Build passes CacheDir; tests pass folders of
// their own, so they can run at once.
func build(b *knowledge.Base, cfg RankConfig, cache string) (*Index, error) {
	ix := &Index{base: b, langs: map[string]*langIndex{}}
	langs := b.Langs()
	built := make([]*langIndex, len(langs))
	errs := make([]error, len(langs))
	var wg sync.WaitGroup
	for i, lang := range langs { // languages are independent: build them in parallel
		wg.Go(func() {
			built[i], errs[i] = buildLang(lang, b.Articles[lang], b.Synonyms[lang], b.Domain[lang], b.Unrelated[lang], cfg, cache)
		})
	}
	wg.Wait()
	// The typo correctors' indexes of a cached index and the word lists
	// load in the background once the indexes are ready (a correction
	// before then waits for them).
	go func() {
		for _, li := range built {
			if li != nil {
				li.corrector.Warm()
			}
		}
		spell.Preload()
	}()
	var first error
	for i, lang := range langs {
		if built[i] != nil {
			built[i].emoji = emojiReplacer(b.Emoji[lang])
			ix.langs[lang] = built[i]
		}
		if errs[i] != nil && first == nil {
			first = fmt.Errorf("index %s articles: %w", lang, errs[i])
		}
	}
	if first != nil {
		ix.Close()
		return nil, first
	}
	return ix, nil
}

func buildLang(lang string, arts []*knowledge.Article, syn [][]string, domain, unrelated []string, cfg RankConfig, cache string) (*langIndex, error) {
	im, aname, err := langMapping(lang)
	if err != nil {
		return nil, err
	}
	// A cached index of the same knowledge is opened instead of built
	// (indexcache.go); a new one is written to the cache once built.
	ikey, rejected := "", false
	if cache != "" && !noIndexCache {
		ikey = indexKey(lang, arts, syn, domain, unrelated, cfg)
		var li *langIndex
		if li, rejected = loadCachedLang(cache, ikey, lang, arts, im, aname, cfg); li != nil {
			li.ensureModel(arts, syn, domain, unrelated, cfg, cache)
			return li, nil
		}
	}
	li, err := buildLangFresh(lang, arts, syn, domain, unrelated, cfg, im, aname)
	if err != nil {
		return nil, err
	}
	li.ensureModel(arts, syn, domain, unrelated, cfg, cache)
	if ikey != "" {
		saveCachedLang(cache, ikey, li, rejected)
	}
	return li, nil
}

// langMapping is the Bleve mapping of one language's index and the name of
// its analyzer.
func langMapping(lang string) (*mapping.IndexMappingImpl, string, error) {
	aname, adef := analyzerFor(lang)
	im := bleve.NewIndexMapping()
	if lang == "fr" {
		// Question and filler words the standard list lacks (unaccented
		// forms, as people type them on phones).
		toks := []any{}
		for _, w := range strings.Fields(frenchExtraStop) {
			toks = append(toks, w)
		}
		// The standard list, folded like the text it filters.
		for _, line := range strings.Split(string(fr.FrenchStopWords), "\n") {
			w, _, _ := strings.Cut(line, "|")
			if w = strings.TrimSpace(w); w != "" {
				toks = append(toks, foldAccents(w))
			}
		}
		if err := im.AddCustomTokenMap("imp_fr_stop_words", map[string]any{"type": tokenmap.Name, "tokens": toks}); err != nil {
			return nil, "", fmt.Errorf("token map: %w", err)
		}
		if err := im.AddCustomTokenFilter("imp_fr_stop", map[string]any{"type": stop.Name, "stop_token_map": "imp_fr_stop_words"}); err != nil {
			return nil, "", fmt.Errorf("stop filter: %w", err)
		}
	}
	if err := im.AddCustomAnalyzer(aname, adef); err != nil {
		return nil, "", fmt.Errorf("analyzer: %w", err)
	}
	im.DefaultAnalyzer = aname
	im.ScoringModel = "bm25"
	dm := bleve.NewDocumentMapping()
	for _, name := range queriedFields() {
		fm := bleve.NewTextFieldMapping()
		fm.Analyzer = aname
		fm.Store = false
		fm.IncludeInAll = false
		fm.IncludeTermVectors = false
		dm.AddFieldMappingsAt(name, fm)
	}
	dm.Dynamic = false
	kind := bleve.NewKeywordFieldMapping()
	kind.IncludeInAll = false
	dm.AddFieldMappingsAt("kind", kind)
	im.DefaultMapping = dm
	return im, aname, nil
}

// buildLangFresh builds one language's index in memory.
func buildLangFresh(lang string, arts []*knowledge.Article, syn [][]string, domain, unrelated []string, cfg RankConfig, im *mapping.IndexMappingImpl, aname string) (*langIndex, error) {
	bi, err := bleve.NewUsing("", im, scorch.Name, scorch.Name, nil)
	if err != nil {
		return nil, fmt.Errorf("open in-memory index: %w", err)
	}
	li := &langIndex{
		lang:     lang,
		bi:       bi,
		analyzer: im.AnalyzerNamed(aname),
		n:        len(arts),
		df:       map[string]int{},
		docs:     map[string]*docStats{},
		anchors:  map[string]bool{},
		rank:     cfg,
	}
	if li.analyzer == nil {
		bi.Close()
		return nil, fmt.Errorf("analyzer %s not available", aname)
	}
	// Each text is analysed once, for Bleve and for the articles' own
	// statistics (build.go).
	vocab, err := li.indexArticles(arts)
	if err != nil {
		bi.Close()
		return nil, err
	}
	if err := li.openReader(arts); err != nil {
		bi.Close()
		return nil, err
	}
	li.idfs = make(map[string]float64, len(li.df))
	for t := range li.df {
		li.idfs[t] = li.computeIDF(t)
	}
	for _, ds := range li.docs {
		ds.qweights = make([]float64, len(ds.questions))
		for i, q := range ds.questions {
			// Summed in term order (q is sorted), so the sum is the same
			// in every build.
			for _, t := range q {
				ds.qweights[i] += li.idf(t)
			}
		}
	}
	li.termSets()
	// The knowledge's words, with how often each occurs: the typo
	// corrector's vocabulary, and a cache of their analyzed terms.
	for _, g := range syn {
		for _, term := range g {
			for _, w := range words(term) {
				vocab[w] += 2
			}
		}
	}
	for _, d := range domain {
		for _, w := range words(d) {
			vocab[w] += 2
		}
	}
	li.vocab = vocab
	li.corrector = spell.NewCorrector(vocab, 2)
	for _, w := range domain {
		if ts := li.analyze(w); len(ts) == 1 {
			li.anchors[ts[0]] = true
		}
	}
	for _, g := range syn {
		var sg synGroup
		for _, term := range g {
			sg.words = append(sg.words, words(term))
			sg.terms = append(sg.terms, li.analyze(term))
		}
		sg.own = make([]atomic.Pointer[[]string], len(sg.words))
		li.synonyms = append(li.synonyms, sg)
	}
	li.synByFirst = map[string][]synTerm{}
	for gi, g := range li.synonyms {
		for ti, tw := range g.words {
			if len(tw) > 0 {
				li.synByFirst[tw[0]] = append(li.synByFirst[tw[0]], synTerm{gi, ti})
			}
		}
	}
	return li, nil
}

// ensureModel gives the index its ranker: from the model cache in the
// folder cache ("": none) when it has one, else trained (and cached). A language larger than
// the ranker's limit is ranked by Bleve alone (RankConfig.MaxRankerArticles).
func (li *langIndex) ensureModel(arts []*knowledge.Article, syn [][]string, domain, unrelated []string, cfg RankConfig, cache string) {
	if !cfg.usesRanker(len(arts)) {
		return // Bleve ranking only
	}
	lang, vocab := li.lang, li.vocab
	key := ""
	if cache != "" {
		key = modelKey(lang, arts, syn, domain, unrelated, cfg)
		if m := loadModel(cache, key); m != nil && m.nc == len(arts)+1 {
			li.model = m
		}
	}
	if li.model == nil {
		// Training analyzes every word of the knowledge: cache them.
		li.wordCache = make(map[string][]string, len(vocab))
		for w := range vocab {
			li.wordCache[w] = li.analyze(w)
		}
		classes, exs := li.trainingExamples(arts, unrelated, &cfg)
		li.model = train(classes, exs, &cfg)
		if cache != "" {
			saveModel(cache, key, li.model)
		}
	}
}

// snapshot opens a reader on the Bleve index's current snapshot.
func (li *langIndex) snapshot() (bindex.IndexReader, error) {
	adv, err := li.bi.Advanced()
	if err != nil {
		return nil, fmt.Errorf("bleve index: %w", err)
	}
	r, err := adv.Reader()
	if err != nil {
		return nil, fmt.Errorf("bleve reader: %w", err)
	}
	return r, nil
}

// openReader opens the snapshot that searches read and takes from it
// what scoring needs: Bleve's BM25 figures for each queried field, each
// term's document counts, and which article each document belongs to.
func (li *langIndex) openReader(arts []*knowledge.Article) error {
	r, err := li.snapshot()
	if err != nil {
		return err
	}
	fail := func(err error) error {
		r.Close()
		return err
	}
	li.docTotal, err = r.DocCount()
	if err != nil {
		return fail(fmt.Errorf("bleve document count: %w", err))
	}
	li.fieldDF = map[string]*termFields{}
	for fi, f := range fieldBoosts {
		d, err := r.FieldDict(f.name)
		if err != nil {
			return fail(fmt.Errorf("field %s: %w", f.name, err))
		}
		terms := 0
		for {
			e, err := d.Next()
			if err != nil {
				d.Close()
				return fail(fmt.Errorf("field %s: %w", f.name, err))
			}
			if e == nil {
				break
			}
			terms++
			tf := li.fieldDF[e.Term]
			if tf == nil {
				tf = &termFields{}
				li.fieldDF[e.Term] = tf
			}
			tf.df[fi] = uint32(e.Count)
		}
		d.Close()
		// Bleve's BM25 takes a field's length to be its distinct terms
		// (its FieldCardinality) over the documents. FieldCardinality
		// sums the segments' counts, so it would grow with the batches the
		// index was built in: the terms are counted here over the whole
		// index instead, which is FieldCardinality of one segment.
		li.fields[fi] = queryField{name: f.name, avgLen: math.Ceil(float64(terms) / float64(li.docTotal))}
	}
	li.artIDs = make([]string, len(arts))
	li.docArt = make([]int32, li.docTotal)
	for i := range li.docArt {
		li.docArt[i] = -1
	}
	set := func(id string, art int) error {
		iid, err := r.InternalID(id)
		if err != nil || len(iid) != 8 {
			return fmt.Errorf("document %s: no internal ID (%v)", id, err)
		}
		n := iid.Value()
		if n >= uint64(len(li.docArt)) {
			grown := make([]int32, n+1)
			copy(grown, li.docArt)
			for i := len(li.docArt); i < len(grown); i++ {
				grown[i] = -1
			}
			li.docArt = grown
		}
		li.docArt[n] = int32(art)
		return nil
	}
	for i, a := range arts {
		li.artIDs[i] = a.ID
		if err := set(a.ID, i); err != nil {
			return fail(err)
		}
		for qi := range a.Questions {
			if err := set(questionDocID(a.ID, qi), i); err != nil {
				return fail(err)
			}
		}
	}
	n := len(li.docArt)
	li.scratch.New = func() any { return &scoreScratch{acc: make([]float64, n), cnt: make([]uint16, n)} }
	li.reader = r
	return nil
}

// Close releases the Bleve indexes.
func (ix *Index) Close() error {
	var first error
	for _, li := range ix.langs {
		if li.reader != nil {
			if err := li.reader.Close(); err != nil && first == nil {
				first = err
			}
		}
		if err := li.bi.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Base returns the knowledge the index was built from.
func (ix *Index) Base() *knowledge.Base { return ix.base }

// Has reports whether the index has articles in lang.
func (ix *Index) Has(lang string) bool { return ix.langs[lang] != nil }

func (li *langIndex) analyze(s string) []string {
	ts := li.analyzer.Analyze([]byte(s))
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		if len(t.Term) == 0 {
			continue
		}
		out = append(out, string(t.Term))
	}
	return out
}

// words splits text into lowercase words of letters and digits (accents
// folded), for synonym matching.
func words(s string) []string {
	s = foldAccents(strings.ToLower(s))
	return strings.FieldsFunc(s, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

var accentFolder = strings.NewReplacer(
	"à", "a", "â", "a", "ä", "a", "á", "a", "ç", "c", "é", "e", "è", "e", "ê", "e", "ë", "e",
	"î", "i", "ï", "i", "í", "i", "ô", "o", "ö", "o", "ó", "o", "ù", "u", "û", "u", "ü", "u", "ú", "u",
	"ÿ", "y", "ñ", "n", "œ", "oe", "æ", "ae", "’", "'",
)

func foldAccents(s string) string { return accentFolder.Replace(s) }

// idf is BM25's inverse document frequency; unknown terms get the weight of
// a term found in a single document.
func (li *langIndex) idf(t string) float64 {
	if v, ok := li.idfs[t]; ok {
		return v
	}
	return li.computeIDF(t)
}

func (li *langIndex) computeIDF(t string) float64 {
	df := li.df[t]
	if df == 0 {
		df = 1
	}
	return math.Log(1 + (float64(li.n)-float64(df)+0.5)/(float64(df)+0.5))
}

func (li *langIndex) conceptWeight(c concept) float64 {
	// The user's own words set the weight; synonyms only help to match.
	// An unknown own word weighs like the rarest term. Every word counts
	// at least weightFloor, so frequent domain words still matter; bare
	// numbers (years, ages) count little.
	best := 0.0
	for _, t := range c.alts[0] {
		best = max(best, li.idf(t))
	}
	if len(c.alts[0]) == 1 && isNumber(c.alts[0][0]) {
		return weightFloor
	}
	return weightFloor + best
}

// weightFloor is the weight every word has before its rarity is added.
var weightFloor = 1.0

func (li *langIndex) known(c concept) bool {
	for _, alt := range c.alts {
		ok := len(alt) > 0
		for _, t := range alt {
			if li.df[t] == 0 {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func isNumber(s string) bool {
	for _, r := range s {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

// clip cuts s to at most n runes and replaces invalid UTF-8.
func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}

// HasWordsOnlyIn reports whether text has a word that the knowledge of
// lang has and the knowledge of other does not: only then can a search in
// lang find what a search in other missed. It is false when either
// language has no articles.
func (ix *Index) HasWordsOnlyIn(lang, other, text string) bool {
	li, lo := ix.langs[lang], ix.langs[other]
	if li == nil || lo == nil {
		return false
	}
	for _, w := range words(Normalize(clip(text, MaxQueryRunes))) {
		if _, ok := li.vocab[w]; !ok {
			continue
		}
		if _, ok := lo.vocab[w]; !ok {
			return true
		}
	}
	return false
}

// termSets numbers the articles' terms and turns each article's, question's
// and section's term set into sorted term IDs (dropping the maps).
func (li *langIndex) termSets() {
	all := map[string]bool{}
	for _, ds := range li.docs {
		for _, t := range ds.terms {
			all[t] = true
		}
		for _, sec := range ds.sections {
			for _, t := range sec.terms {
				all[t] = true
			}
		}
	}
	li.termIDs = make(map[string]int32, len(all))
	for _, t := range slices.Sorted(maps.Keys(all)) {
		li.termIDs[t] = int32(len(li.termIDs))
	}
	// The terms are sorted, and so are their IDs.
	set := func(terms []string) []int32 {
		ids := make([]int32, len(terms))
		for i, t := range terms {
			ids[i] = li.termIDs[t]
		}
		return ids
	}
	for _, ds := range li.docs {
		ds.termSet = set(ds.terms)
		ds.questionSets = make([][]int32, len(ds.questions))
		for i, q := range ds.questions {
			ds.questionSets[i] = set(q)
		}
		ds.questionBits()
		for i := range ds.sections {
			ds.sections[i].set = set(ds.sections[i].terms)
			ds.sections[i].terms = nil
		}
		ds.terms, ds.questions = nil, nil
	}
}

// questionBits fills qTerms, qBits and qStride from questionSets.
func (ds *docStats) questionBits() {
	var all []int32
	for _, q := range ds.questionSets {
		all = append(all, q...)
	}
	slices.Sort(all)
	ds.qTerms = slices.Compact(all)
	ds.qStride = (len(ds.questionSets) + 63) / 64
	ds.qBits = make([]uint64, len(ds.qTerms)*ds.qStride)
	for qi, q := range ds.questionSets {
		for _, t := range q {
			k, _ := slices.BinarySearch(ds.qTerms, t)
			ds.qBits[k*ds.qStride+qi/64] |= 1 << (qi % 64)
		}
	}
}

// questionsWith sets m (qStride words) to the questions that have every
// term of alt, and reports whether there is any.
func (ds *docStats) questionsWith(alt []int32, m []uint64) bool {
	if len(alt) == 0 {
		return false
	}
	for i, t := range alt {
		k, ok := slices.BinarySearch(ds.qTerms, t)
		if !ok {
			return false
		}
		row := ds.qBits[k*ds.qStride : (k+1)*ds.qStride]
		if i == 0 {
			copy(m, row)
			continue
		}
		for w := range m {
			m[w] &= row[w]
		}
	}
	for _, w := range m {
		if w != 0 {
			return true
		}
	}
	return false
}

// termIDsOf gives the concept's alternatives as term IDs; an alternative
// with a term no article has is nil (it matches nothing).
func (li *langIndex) termIDsOf(c *concept) {
	c.ids = make([][]int32, len(c.alts))
	for i, alt := range c.alts {
		ids := make([]int32, 0, len(alt))
		for _, t := range alt {
			id, ok := li.termIDs[t]
			if !ok {
				ids = nil
				break
			}
			ids = append(ids, id)
		}
		c.ids[i] = ids
	}
}
