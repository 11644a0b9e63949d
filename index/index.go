// Package index builds the Bleve search index over the knowledge articles and
// answers questions with ranked, scored hits. User text is analyzed into
// terms and searched with term queries only: it never reaches Bleve's
// query-string syntax.
package index

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
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
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/impbot/impbot/knowledge"
)

// Field boosts: how much a match in each field counts.
var fieldBoosts = []struct {
	name  string
	boost float64
}{
	{"title", 3},
	{"questions", 3},
	{"keywords", 2.5},
	{"summary", 1.5},
}

// The body is indexed but not queried: it is the longest field, so querying
// it costs the most (about a fifth of the search time) and, measured on the
// question sets, adds nothing to finding candidates. Its words still count
// through each article's coverage of the question.
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
const maxBleveTerms = 16

// candidates is how many articles Bleve returns for re-ranking.
const candidates = 12

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
	bi       bleve.Index
	analyzer analysis.Analyzer
	n        int
	df       map[string]int
	idfs     map[string]float64
	docs     map[string]*docStats
	vocab    map[int][]string // terms by rune length, for typo correction
	anchors  map[string]bool  // the domain's own words (domain.yaml and synonyms)
	synonyms []synGroup
}

type docStats struct {
	article   *knowledge.Article
	terms     map[string]bool
	questions []map[string]bool
	qweights  []float64 // sum of the idf of each question's terms
}

// synGroup is one group of equivalent terms, each term as its words (for
// matching in the user's text) and its analyzed terms (for searching).
type synGroup struct {
	words [][]string
	terms [][]string
}

type bleveDoc struct {
	Title     string `json:"title"`
	Questions string `json:"questions"`
	Keywords  string `json:"keywords"`
	Summary   string `json:"summary"`
	Body      string `json:"body"`
	Kind      string `json:"kind"`
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

// Build indexes every language of the knowledge base.
func Build(b *knowledge.Base) (*Index, error) {
	ix := &Index{base: b, langs: map[string]*langIndex{}}
	langs := b.Langs()
	built := make([]*langIndex, len(langs))
	errs := make([]error, len(langs))
	var wg sync.WaitGroup
	for i, lang := range langs { // languages are independent: build them in parallel
		wg.Go(func() {
			built[i], errs[i] = buildLang(lang, b.Articles[lang], b.Synonyms[lang], b.Domain[lang])
		})
	}
	wg.Wait()
	var first error
	for i, lang := range langs {
		if built[i] != nil {
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

func buildLang(lang string, arts []*knowledge.Article, syn [][]string, domain []string) (*langIndex, error) {
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
			return nil, fmt.Errorf("token map: %w", err)
		}
		if err := im.AddCustomTokenFilter("imp_fr_stop", map[string]any{"type": stop.Name, "stop_token_map": "imp_fr_stop_words"}); err != nil {
			return nil, fmt.Errorf("stop filter: %w", err)
		}
	}
	if err := im.AddCustomAnalyzer(aname, adef); err != nil {
		return nil, fmt.Errorf("analyzer: %w", err)
	}
	im.DefaultAnalyzer = aname
	im.ScoringModel = "bm25"
	dm := bleve.NewDocumentMapping()
	for _, name := range append(queriedFields(), "body") {
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
		vocab:    map[int][]string{},
		anchors:  map[string]bool{},
	}
	if li.analyzer == nil {
		bi.Close()
		return nil, fmt.Errorf("analyzer %s not available", aname)
	}
	batch := bi.NewBatch()
	for _, a := range arts {
		d := bleveDoc{
			Title:     a.Title,
			Questions: strings.Join(a.Questions, "\n"),
			Keywords:  strings.Join(a.Keywords, "\n"),
			Summary:   a.Summary,
			Body:      a.Body,
			Kind:      a.Kind,
		}
		if err := batch.Index(a.ID, d); err != nil {
			bi.Close()
			return nil, fmt.Errorf("index %s: %w", a.ID, err)
		}
		ds := &docStats{article: a, terms: map[string]bool{}}
		for _, t := range li.analyze(strings.Join([]string{d.Title, d.Questions, d.Keywords, d.Summary, d.Body}, "\n")) {
			ds.terms[t] = true
		}
		for _, q := range append([]string{a.Title}, a.Questions...) {
			qs := map[string]bool{}
			for _, t := range li.analyze(q) {
				qs[t] = true
			}
			ds.questions = append(ds.questions, qs)
		}
		for t := range ds.terms {
			li.df[t]++
		}
		li.docs[a.ID] = ds
	}
	if err := bi.Batch(batch); err != nil {
		bi.Close()
		return nil, fmt.Errorf("index batch: %w", err)
	}
	li.idfs = make(map[string]float64, len(li.df))
	for t := range li.df {
		li.idfs[t] = li.computeIDF(t)
	}
	for _, ds := range li.docs {
		ds.qweights = make([]float64, len(ds.questions))
		for i, q := range ds.questions {
			for t := range q {
				ds.qweights[i] += li.idf(t)
			}
		}
	}
	for t := range li.df {
		n := utf8.RuneCountInString(t)
		li.vocab[n] = append(li.vocab[n], t)
	}
	for _, ts := range li.vocab {
		sort.Strings(ts)
	}
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
		li.synonyms = append(li.synonyms, sg)
	}
	return li, nil
}

// Close releases the Bleve indexes.
func (ix *Index) Close() error {
	var first error
	for _, li := range ix.langs {
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

// Hit is one candidate article.
type Hit struct {
	ID   string
	Kind string
	// Score is Bleve's relevance score (BM25 with field boosts).
	Score float64
	// Coverage is the share of the question's known terms (weighted by
	// rarity) that the article contains, 0..1.
	Coverage float64
	// QuestionMatch is the best weighted overlap between the question and
	// one of the article's own questions or title, 0..1.
	QuestionMatch float64
	// Confidence combines the signals into 0..1.
	Confidence float64
}

// Result is the answer to one search.
type Result struct {
	Hits []Hit
	// Terms are the analyzed terms searched for (after typo correction).
	Terms []string
	// Known is the rarity-weighted share of the question's terms that occur
	// in the knowledge at all, 0..1: low for questions on other subjects.
	Known float64
	// Anchored is the rarity-weighted share of the question's terms that are
	// the domain's own words (domain.yaml and synonyms.yaml), 0..1.
	Anchored float64
	// Lang is the language searched.
	Lang string
}

// Top returns the best hit, or a zero Hit.
func (r Result) Top() Hit {
	if len(r.Hits) == 0 {
		return Hit{}
	}
	return r.Hits[0]
}

type concept struct {
	alts   [][]string // each alternative: terms that must all be present
	weight float64
	corr   bool
	anchor bool // one of the domain's own words or phrases
}

// Search finds up to n articles for the text in lang (falling back to
// English when lang has no articles).
func (ix *Index) Search(ctx context.Context, lang, text string, n int) (res Result, err error) {
	li := ix.langs[lang]
	if li == nil {
		li = ix.langs["en"]
	}
	if li == nil {
		return Result{}, fmt.Errorf("no articles in %q", lang)
	}
	res.Lang = li.lang
	defer func() {
		// Bleve has had panics on odd inputs; never let one escape.
		if r := recover(); r != nil {
			err = fmt.Errorf("search panicked: %v", r)
		}
	}()
	text = clip(text, MaxQueryRunes)
	concepts, terms := li.concepts(text)
	res.Terms = terms
	if len(concepts) == 0 {
		return res, nil
	}
	// Whether the question is about this domain at all is judged by
	// counting words, not by rarity: the domain's most common words (work,
	// permit, employer, lmia) are its strongest signals.
	totalW, knownW := 0.0, 0.0
	nKnown, nAnchor := 0, 0
	for _, c := range concepts {
		totalW += c.weight
		if li.known(c) {
			knownW += c.weight
			nKnown++
		}
		if c.anchor {
			nAnchor++
		}
	}
	res.Known = float64(nKnown) / float64(len(concepts))
	res.Anchored = float64(nAnchor) / float64(len(concepts))
	// Words the knowledge has never seen (names, places, other subjects)
	// count half against the match: a question mostly about something else
	// should not look like a good match.
	denomW := knownW + unknownFactor*(totalW-knownW)
	// One term query per distinct term and field.
	weights := map[string]float64{}
	for _, c := range concepts {
		for i, alt := range c.alts {
			w := 1.0
			if i > 0 {
				w = 0.6 // synonyms count a little less than the user's own words
			}
			if c.corr {
				w *= 0.8
			}
			for _, t := range alt {
				if li.df[t] == 0 {
					continue
				}
				if w > weights[t] {
					weights[t] = w
				}
			}
		}
	}
	if len(weights) == 0 {
		return res, nil
	}
	// Bleve only gathers candidates (the ranking below uses every concept),
	// so the most informative terms are enough and keep the query cheap.
	bterms := make([]string, 0, len(weights))
	for t := range weights {
		bterms = append(bterms, t)
	}
	sort.Slice(bterms, func(i, j int) bool {
		wi, wj := weights[bterms[i]]*li.idf(bterms[i]), weights[bterms[j]]*li.idf(bterms[j])
		if wi != wj {
			return wi > wj
		}
		return bterms[i] < bterms[j]
	})
	if len(bterms) > maxBleveTerms {
		bterms = bterms[:maxBleveTerms]
	}
	var qs []query.Query
	for _, t := range bterms {
		w := weights[t]
		for _, f := range fieldBoosts {
			tq := bleve.NewTermQuery(t)
			tq.SetField(f.name)
			tq.SetBoost(f.boost * w)
			qs = append(qs, tq)
		}
	}
	// Fetch more candidates than asked: the re-ranking below often lifts an
	// article that BM25 alone placed lower.
	req := bleve.NewSearchRequestOptions(bleve.NewDisjunctionQuery(qs...), max(n, candidates), 0, false)
	req.Fields = nil
	sr, err := li.bi.SearchInContext(ctx, req)
	if err != nil {
		return res, fmt.Errorf("bleve search: %w", err)
	}
	for _, h := range sr.Hits {
		ds := li.docs[h.ID]
		if ds == nil {
			continue
		}
		hit := Hit{ID: h.ID, Kind: ds.article.Kind, Score: h.Score}
		hit.Coverage, hit.QuestionMatch = li.match(concepts, ds, denomW)
		res.Hits = append(res.Hits, hit)
	}
	score(res.Hits, res.Known, res.Anchored)
	if len(res.Hits) > n {
		res.Hits = res.Hits[:n]
	}
	return res, nil
}

// concepts turns text into weighted concepts: each word (or synonym phrase)
// with its alternatives.
func (li *langIndex) concepts(text string) ([]concept, []string) {
	ws := words(text)
	used := make([]bool, len(ws))
	var cs []concept
	// Synonym phrases first, longest first.
	type span struct {
		start, end, group, term int
	}
	var spans []span
	for gi, g := range li.synonyms {
		for ti, tw := range g.words {
			if len(tw) == 0 {
				continue
			}
			for i := 0; i+len(tw) <= len(ws); i++ {
				match := true
				for j := range tw {
					if ws[i+j] != tw[j] {
						match = false
						break
					}
				}
				if match {
					spans = append(spans, span{i, i + len(tw), gi, ti})
				}
			}
		}
	}
	sort.SliceStable(spans, func(i, j int) bool {
		return spans[i].end-spans[i].start > spans[j].end-spans[j].start
	})
	for _, sp := range spans {
		free := true
		for k := sp.start; k < sp.end; k++ {
			if used[k] {
				free = false
				break
			}
		}
		if !free {
			continue
		}
		for k := sp.start; k < sp.end; k++ {
			used[k] = true
		}
		g := li.synonyms[sp.group]
		own := li.analyze(strings.Join(ws[sp.start:sp.end], " "))
		c := concept{alts: [][]string{own}, anchor: true}
		for ti, ts := range g.terms {
			if ti != sp.term && len(ts) > 0 {
				c.alts = append(c.alts, ts)
			}
		}
		if len(own) == 0 {
			c.alts = c.alts[1:]
		}
		if len(c.alts) == 0 {
			continue
		}
		cs = append(cs, c)
	}
	seen := map[string]bool{}
	for i, w := range ws {
		if used[i] {
			continue
		}
		for _, t := range li.analyze(w) {
			if seen[t] {
				continue
			}
			seen[t] = true
			c := concept{alts: [][]string{{t}}, anchor: li.anchors[t]}
			if li.df[t] == 0 {
				if fix := li.correct(t); fix != "" {
					c.alts = [][]string{{fix}}
					c.corr = true
				}
			}
			cs = append(cs, c)
		}
	}
	if len(cs) > maxTerms {
		cs = cs[:maxTerms]
	}
	var terms []string
	for i := range cs {
		cs[i].weight = li.conceptWeight(cs[i])
		terms = append(terms, cs[i].alts[0]...)
	}
	return cs, terms
}

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

func has(set map[string]bool, alt []string) bool {
	if len(alt) == 0 {
		return false
	}
	for _, t := range alt {
		if !set[t] {
			return false
		}
	}
	return true
}

// synonymMatch is how much a match through a synonym counts, relative to the
// user's own words.
const synonymMatch = 0.6

// conceptMatch tells how well a set of terms matches a concept: 1 for the
// user's own words, synonymMatch for a synonym, 0 for none.
func conceptMatch(set map[string]bool, c concept) float64 {
	for i, alt := range c.alts {
		if has(set, alt) {
			if i == 0 {
				return 1
			}
			return synonymMatch
		}
	}
	return 0
}

func hasConcept(set map[string]bool, c concept) bool { return conceptMatch(set, c) > 0 }

// match returns the coverage of the known concepts by the article and the
// best overlap with one of the article's questions.
func (li *langIndex) match(cs []concept, ds *docStats, knownW float64) (coverage, qmatch float64) {
	got := 0.0
	// A question's terms are all in its article, so only the concepts the
	// article has can match one of its questions.
	present := make([]concept, 0, len(cs))
	for _, c := range cs {
		if m := conceptMatch(ds.terms, c); m > 0 {
			got += c.weight * m
			present = append(present, c)
		}
	}
	if knownW > 0 {
		coverage = got / knownW
	}
	if len(present) == 0 {
		return coverage, 0
	}
	for qi, q := range ds.questions {
		inter, qw := 0.0, ds.qweights[qi]
		for _, c := range present {
			inter += c.weight * conceptMatch(q, c)
		}
		if qw == 0 || knownW == 0 {
			continue
		}
		// Dice-like overlap between the user's known terms and the question.
		m := 2 * inter / (knownW + qw)
		if m > 1 {
			m = 1
		}
		if m > qmatch {
			qmatch = m
		}
	}
	return coverage, qmatch
}

// score sets each hit's confidence and re-ranks. The base is a blend of
// Bleve's score (relative to the best hit), how much of the question the
// article covers, and how close the question is to one of the article's own
// questions. It is then damped for questions that are mostly not about this
// domain: few words the knowledge knows (known), or none of the domain's own
// words (anchored). The weights were calibrated on the development set.
func score(hits []Hit, known, anchored float64) {
	// A question with none of the domain's own words is most likely about
	// something else; one with few words the knowledge knows, too.
	if len(hits) == 0 {
		return
	}
	top := 0.0
	for _, h := range hits {
		top = max(top, h.Score)
	}
	domain := min(1, max(0, (known-0.2)/0.2))
	if anchored == 0 {
		domain *= 0.1
	}
	raw := make([]float64, len(hits))
	for i := range hits {
		// Relative to the best hit, but a weak best hit (every article
		// matching a word or two) does not count as a strong one.
		rel := hits[i].Score / max(top, relFloor)
		raw[i] = (0.1*rel + 0.3*hits[i].Coverage + 0.6*hits[i].QuestionMatch) * domain
		// Scaled so that the usual thresholds sit near the middle of 0..1.
		hits[i].Confidence = math.Round(min(1, raw[i]/0.4)*1000) / 1000
	}
	order := make([]int, len(hits))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return raw[order[i]] > raw[order[j]] })
	sorted := make([]Hit, len(hits))
	for i, k := range order {
		sorted[i] = hits[k]
	}
	copy(hits, sorted)
}

// correct returns the known term closest to an unknown one (edit distance 1,
// or 2 for long words), preferring frequent terms; "" when none.
func (li *langIndex) correct(t string) string {
	n := utf8.RuneCountInString(t)
	if n < 6 || isNumber(t) {
		return ""
	}
	maxD := 1
	if n >= 9 {
		maxD = 2
	}
	first, _ := utf8.DecodeRuneInString(t)
	best, bestD, bestDF := "", maxD+1, 0
	for l := n - maxD; l <= n+maxD; l++ {
		for _, v := range li.vocab[l] {
			if f, _ := utf8.DecodeRuneInString(v); f != first {
				continue // typos rarely change the first letter
			}
			if li.df[v] < 2 {
				continue // a word of a single article is too weak a guess
			}
			d := editDistance(t, v, maxD)
			if d < bestD || (d == bestD && li.df[v] > bestDF) {
				best, bestD, bestDF = v, d, li.df[v]
			}
		}
	}
	if bestD > maxD {
		return ""
	}
	return best
}

func isNumber(s string) bool {
	for _, r := range s {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

var rowPool = sync.Pool{New: func() any { s := make([]int, 0, 64); return &s }}

// editDistance is the optimal-string-alignment distance between a and b,
// giving up (returning max+1) once it exceeds max.
func editDistance(a, b string, max int) int {
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d > max || -d > max {
		return max + 1
	}
	w := len(rb) + 1
	p := rowPool.Get().(*[]int)
	defer rowPool.Put(p)
	need := 3 * w
	if cap(*p) < need {
		*p = make([]int, need)
	}
	buf := (*p)[:need]
	prev2, prev, cur := buf[:w], buf[w:2*w], buf[2*w:]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin > max {
			return max + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
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
