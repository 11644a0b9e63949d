package index

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/blevesearch/bleve/v2/search"
	index "github.com/blevesearch/bleve_index_api"
)

// Hit is one candidate article.
type Hit struct {
	ID   string
	Kind string
	// Score is Bleve's relevance score (BM25 with field boosts); 0 when
	// Bleve did not return the article.
	Score float64
	// BleveRank is the article's place in Bleve's ranking (1 = first), 0
	// when Bleve did not return it.
	BleveRank int
	// Prob is the ranker's probability for the article.
	Prob float64
	// RankerRank is the article's place in the ranker's ranking (1 = first).
	RankerRank int
	// Fused is the reciprocal-rank fusion score of the two rankings.
	Fused float64
	// Coverage is the weighted share of the question's concepts that the
	// article contains.
	Coverage float64
	// QuestionMatch is the best overlap between the question and one of
	// the article's own questions or its title, 0..1.
	QuestionMatch float64
	// Confidence is the calibrated probability that this article is the
	// right answer, in (0, 1).
	Confidence float64
	// Section is the article's section (index into Article.Sections())
	// that best matches the question, -1 when none stands out.
	Section int
}

// Result is the answer to one search.
type Result struct {
	Hits []Hit
	// Normalized is the text after Unicode normalisation.
	Normalized string
	// Corrections are the typos corrected, in order.
	Corrections []Correction
	// Terms are the analyzed terms searched for (after typo correction).
	Terms []string
	// Known is the share of the question's concepts that occur in the
	// knowledge at all, 0..1: low for questions on other subjects.
	Known float64
	// Anchored is the share of the question's concepts that are the
	// domain's own words (domain.yaml, synonyms.yaml, exemption codes,
	// corrected words), 0..1.
	Anchored float64
	// None is the ranker's probability that the question is unrelated.
	None float64
	// Concepts is how many concepts (words or synonym phrases) the
	// question has.
	Concepts int
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
	ids    [][]int32  // the alternatives as term IDs (nil: no article has them all)
	weight float64
	corr   bool
	anchor bool // one of the domain's own words or phrases
}

// Search finds up to n articles for the text in lang (falling back to
// English when lang has no articles), best first.
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
	p := li.parse(text, true)
	res.Normalized, res.Corrections = p.norm, p.corrections
	for _, c := range p.concepts {
		res.Terms = append(res.Terms, c.alts[0]...)
	}
	if len(p.concepts) == 0 || allNumbers(p.concepts) {
		// Nothing to search, or only numbers ("1", "2026"): not a question.
		return res, nil
	}
	nKnown, nAnchor := 0, 0
	for _, c := range p.concepts {
		if li.known(c) {
			nKnown++
		}
		if c.anchor {
			nAnchor++
		}
	}
	res.Concepts = len(p.concepts)
	res.Known = float64(nKnown) / float64(len(p.concepts))
	res.Anchored = float64(nAnchor) / float64(len(p.concepts))
	bhits, err := li.bleveSearch(ctx, p.concepts)
	if err != nil {
		return res, err
	}
	if li.model != nil {
		probs := li.model.predict(li.features(p, &li.rank), nil)
		res.None = float64(probs[len(probs)-1])
		res.Hits = li.fuse(bhits, probs, p.concepts, res.Known, res.Anchored)
	} else {
		res.Hits = li.fuseBleve(bhits, p.concepts, res.Known, res.Anchored)
	}
	if len(res.Hits) > n {
		res.Hits = res.Hits[:n]
	}
	for i := range res.Hits {
		res.Hits[i].Section = li.bestSection(p.concepts, res.Hits[i].ID)
	}
	return res, nil
}

// bestSection is the section of the article that covers most of the
// question (concepts weighted by rarity), -1 when the article has fewer
// than two sections or none matches.
func (li *langIndex) bestSection(cs []concept, id string) int {
	ds := li.docs[id]
	if ds == nil || len(ds.sections) < 2 {
		return -1
	}
	best, bestScore := -1, 0.0
	for _, sec := range ds.sections {
		score := 0.0
		for ci := range cs {
			score += cs[ci].weight * conceptMatch(sec.set, &cs[ci])
		}
		if score > bestScore+1e-9 {
			best, bestScore = sec.idx, score
		}
	}
	return best
}

type bleveHit struct {
	id    string
	art   int32 // index into langIndex.artIDs
	score float64
}

// bleveTerms chooses the terms searched for and their weights: the
// question's terms the knowledge has, rarest and most weighty first, at
// most maxBleveTerms.
func (li *langIndex) bleveTerms(cs []concept) ([]string, []float64) {
	var bterms []string
	var weights []float64
	for _, c := range cs {
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
				if k := slices.Index(bterms, t); k >= 0 {
					weights[k] = max(weights[k], w)
					continue
				}
				bterms = append(bterms, t)
				weights = append(weights, w)
			}
		}
	}
	if len(bterms) == 0 {
		return nil, nil
	}
	order := make([]int, len(bterms))
	value := make([]float64, len(bterms)) // weight × idf, looked up once per term
	for i := range order {
		order[i] = i
		value[i] = weights[i] * li.idf(bterms[i])
	}
	sort.Slice(order, func(a, b int) bool {
		i, j := order[a], order[b]
		if wi, wj := value[i], value[j]; wi != wj {
			return wi > wj
		}
		return bterms[i] < bterms[j]
	})
	if len(order) > maxBleveTerms {
		order = order[:maxBleveTerms]
	}
	ts, ws := make([]string, len(order)), make([]float64, len(order))
	for k, i := range order {
		ts[k], ws[k] = bterms[i], weights[i]
	}
	return ts, ws
}

// bleveSearch scores the documents of the Bleve index for the question's
// terms, term at a time: it reads each term's postings in each queried
// field through the index's reader (once per term and field: the postings
// and their BM25 scores are kept, see postings) and adds up the same BM25
// scores a Bleve disjunction of boosted term queries gives (the query norm
// and the coordination factor included), into one slot per document. User
// text only ever becomes terms looked up in the index's dictionary.
func (li *langIndex) bleveSearch(ctx context.Context, cs []concept) ([]bleveHit, error) {
	bterms, weights := li.bleveTerms(cs)
	if len(bterms) == 0 {
		return nil, nil
	}
	type termField struct {
		term   string
		field  int
		weight float64 // boost × idf × query norm
		idf    float64
		tf     *termFields
	}
	nq := len(bterms) * len(fieldBoosts)
	tfs := make([]termField, 0, nq)
	sumSq := 0.0
	for ti, t := range bterms {
		tf := li.fieldDF[t]
		for fi, f := range fieldBoosts {
			var df uint32
			if tf != nil {
				df = tf.df[fi]
			}
			boost := f.boost * weights[ti]
			idf := math.Log(1 + (float64(li.docTotal)-float64(df)+0.5)/(float64(df)+0.5))
			sumSq += (boost * idf) * (boost * idf)
			if df > 0 {
				tfs = append(tfs, termField{term: t, field: fi, weight: boost, idf: idf, tf: tf})
			}
		}
	}
	qnorm := 1 / math.Sqrt(sumSq)
	sc := li.scratch.Get().(*scoreScratch)
	defer li.putScratch(sc)
	for _, q := range tfs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		p, err := li.postings(ctx, q.tf, q.term, q.field, q.idf)
		if err != nil {
			return nil, err
		}
		qw := q.weight * q.idf * qnorm
		for i, doc := range p.docs {
			s := p.scores[i]
			if qw != 1.0 {
				s *= qw
			}
			if sc.cnt[doc] == 0 {
				sc.touched = append(sc.touched, doc)
			}
			sc.acc[doc] += s
			sc.cnt[doc]++
		}
	}
	// Each document's score, times the share of the term queries it
	// matched (Bleve's coordination factor); the best candidates
	// documents, best first (ties by article ID, so the order never depends
	// on the order documents were indexed in).
	// In a large knowledge a question touches tens of thousands of
	// documents: the best candidates are kept in a heap (the worst at its
	// root) instead of sorting them all.
	order := func(a, b scoredDoc) int {
		if a.score != b.score {
			return cmp.Compare(b.score, a.score)
		}
		return strings.Compare(li.artIDs[a.art], li.artIDs[b.art])
	}
	docs := sc.docs[:0]
	for _, doc := range sc.touched {
		a := li.docArt[doc]
		if a < 0 {
			continue
		}
		docs = keepBest(docs, scoredDoc{art: a, score: sc.acc[doc] * (float64(sc.cnt[doc]) / float64(nq))}, candidates, order)
	}
	slices.SortFunc(docs, order)
	sc.docs = docs
	// Question documents ("id#n") count for their article, which scores by
	// its best document.
	out := make([]bleveHit, 0, maxBleveArticles)
	for _, d := range docs {
		if slices.ContainsFunc(out, func(h bleveHit) bool { return h.art == d.art }) {
			continue
		}
		out = append(out, bleveHit{id: li.artIDs[d.art], art: d.art, score: d.score})
		if len(out) == maxBleveArticles {
			break
		}
	}
	return out, nil
}

// termFields is one term of a Bleve index: its document count in each
// queried field and, once a search has read them, its postings there.
type termFields struct {
	df   [len(fieldBoosts)]uint32
	post [len(fieldBoosts)]atomic.Pointer[postings]
}

// postings are one term's postings in one field, as read from Bleve's
// index reader, with each document's BM25 score for the term (before the
// query's weight). They never change once read: the reader is a snapshot.
type postings struct {
	docs   []uint32
	scores []float64
}

// postings returns the term's postings in field fi, reading them from
// Bleve's index reader the first time a search needs them. The scores are
// computed exactly as Bleve's term scorer does (BM25 with Bleve's k1 and
// b, the field's average length, the document's field norm).
func (li *langIndex) postings(ctx context.Context, tf *termFields, term string, fi int, idf float64) (*postings, error) {
	if p := tf.post[fi].Load(); p != nil {
		return p, nil
	}
	f := &li.fields[fi]
	r, err := li.reader.TermFieldReader(ctx, []byte(term), f.name, true, true, false)
	if err != nil {
		return nil, fmt.Errorf("read postings of a term: %w", err)
	}
	defer r.Close()
	p := &postings{}
	var td index.TermFieldDoc
	for {
		d, err := r.Next(&td)
		if err != nil {
			return nil, fmt.Errorf("read postings of a term: %w", err)
		}
		if d == nil {
			break
		}
		doc := d.ID.Value()
		if doc >= uint64(len(li.docArt)) {
			continue // not a document of this snapshot's articles
		}
		tf := math.Sqrt(float64(d.Freq))
		fieldLength := 1 / (d.Norm * d.Norm)
		s := idf * (tf * search.BM25_k1) /
			(tf + search.BM25_k1*(1-search.BM25_b+(search.BM25_b*fieldLength/f.avgLen)))
		p.docs = append(p.docs, uint32(doc))
		p.scores = append(p.scores, s)
	}
	// Two searches may read the same postings at once: both read the same
	// snapshot, so either copy will do.
	tf.post[fi].Store(p)
	return p, nil
}

// keepBest adds d to docs, a heap of at most k documents with the last in
// order at its root, and returns it: once it holds k, d replaces the root
// if it comes before it.
func keepBest(docs []scoredDoc, d scoredDoc, k int, order func(a, b scoredDoc) int) []scoredDoc {
	if len(docs) < k {
		docs = append(docs, d)
		for i := len(docs) - 1; i > 0; { // up
			p := (i - 1) / 2
			if order(docs[p], docs[i]) >= 0 {
				break
			}
			docs[p], docs[i] = docs[i], docs[p]
			i = p
		}
		return docs
	}
	if k == 0 || order(d, docs[0]) >= 0 {
		return docs // no better than the last kept
	}
	docs[0] = d
	for i := 0; ; { // down
		w, l, r := i, 2*i+1, 2*i+2
		if l < len(docs) && order(docs[l], docs[w]) > 0 {
			w = l
		}
		if r < len(docs) && order(docs[r], docs[w]) > 0 {
			w = r
		}
		if w == i {
			return docs
		}
		docs[i], docs[w] = docs[w], docs[i]
		i = w
	}
}

type scoredDoc struct {
	art   int32
	score float64
}

// scoreScratch holds one search's per-document accumulators.
type scoreScratch struct {
	acc     []float64
	cnt     []uint16
	touched []uint32
	docs    []scoredDoc
}

func (li *langIndex) putScratch(sc *scoreScratch) {
	for _, d := range sc.touched {
		sc.acc[d], sc.cnt[d] = 0, 0
	}
	sc.touched = sc.touched[:0]
	sc.docs = sc.docs[:0]
	li.scratch.Put(sc)
}

// maxBleveArticles is how many articles Bleve's ranking contributes.
const maxBleveArticles = 12

// rankerCandidates is how many of the ranker's best articles join Bleve's.
const rankerCandidates = 8

// fuse merges Bleve's candidates with the ranker's best articles, orders
// them by weighted reciprocal-rank fusion and sets each one's calibrated
// confidence.
func (li *langIndex) fuse(bhits []bleveHit, probs []float32, cs []concept, known, anchored float64) []Hit {
	m := li.model
	nArt := m.nc - 1
	// The ranker's order over the articles (the none class left out).
	order := make([]int, nArt)
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return probs[order[a]] > probs[order[b]] })
	rrank := make([]int, m.nc) // by class
	hits := make([]Hit, 0, len(bhits)+rankerCandidates)
	get := func(id string) *Hit {
		for i := range hits {
			if hits[i].ID == id {
				return &hits[i]
			}
		}
		hits = append(hits, Hit{ID: id, Kind: li.docs[id].article.Kind})
		return &hits[len(hits)-1]
	}
	for r, c := range order {
		rrank[c] = r + 1
	}
	for r, bh := range bhits {
		h := get(bh.id)
		h.Score, h.BleveRank = bh.score, r+1
	}
	for r := 0; r < rankerCandidates && r < len(order); r++ {
		get(m.classes[order[r]])
	}
	cfg := &li.rank
	for i := range hits {
		h := &hits[i]
		c := m.classOf[h.ID]
		h.Prob = float64(probs[c])
		h.RankerRank = rrank[c]
		h.Fused = cfg.WRanker / (cfg.RRFK + float64(h.RankerRank))
		if h.BleveRank > 0 {
			h.Fused += cfg.WBleve / (cfg.RRFK + float64(h.BleveRank))
		}
	}
	li.calibrateHits(hits, cs, float64(probs[nArt]), known, anchored)
	return hits
}

// calibrateHits gives each candidate its calibrated confidence (none is
// the probability of the unrelated class) and orders the candidates by it:
// the calibrated confidence is the learned combiner, the fused rank
// breaking ties.
func (li *langIndex) calibrateHits(hits []Hit, cs []concept, none, known, anchored float64) {
	topScore := 0.0
	for _, h := range hits {
		topScore = max(topScore, h.Score)
	}
	denom := li.matchDenom(cs)
	for i := range hits {
		h := &hits[i]
		other := 0.0
		for j := range hits {
			if j != i {
				other = max(other, hits[j].Prob)
			}
		}
		h.Coverage, h.QuestionMatch = li.matchWith(cs, denom, h.ID)
		h.Confidence = calibrate(signals{
			prob: h.Prob, none: none, margin: h.Prob - other, bleveRel: h.Score / max(topScore, 1e-9),
			bleveRank: h.BleveRank, fused: h.Fused, coverage: h.Coverage, qmatch: h.QuestionMatch, known: known, anchored: anchored > 0, concepts: len(cs),
		})
	}
	sort.SliceStable(hits, func(a, b int) bool {
		if hits[a].Confidence != hits[b].Confidence {
			return hits[a].Confidence > hits[b].Confidence
		}
		return hits[a].Fused > hits[b].Fused
	})
}

// fuseBleve is fuse for a language without a ranker (more articles than
// RankConfig.MaxRankerArticles): Bleve's ranking stands for both rankings,
// each candidate's share of the candidates' summed Bleve scores, times the
// share of the question's concepts the knowledge knows, for the ranker's
// probability, and the share of unknown concepts for its unrelated class
// (Result.None stays 0: there is no learned unrelated class). The
// calibration was fitted with the ranker: without it, confidences are
// rougher.
func (li *langIndex) fuseBleve(bhits []bleveHit, cs []concept, known, anchored float64) []Hit {
	hits := make([]Hit, 0, len(bhits))
	sum := 0.0
	for _, bh := range bhits {
		sum += bh.score
	}
	cfg := &li.rank
	for r, bh := range bhits {
		h := Hit{ID: bh.id, Kind: li.docs[bh.id].article.Kind, Score: bh.score, BleveRank: r + 1, RankerRank: r + 1}
		if sum > 0 {
			h.Prob = bh.score / sum * known
		}
		h.Fused = (cfg.WRanker + cfg.WBleve) / (cfg.RRFK + float64(r+1))
		hits = append(hits, h)
	}
	li.calibrateHits(hits, cs, 1-known, known, anchored)
	return hits
}

// synonymMatch is how much a match through a synonym counts, relative to the
// user's own words.
const synonymMatch = 0.6

// conceptMatch tells how well a set of terms (sorted term IDs) matches a
// concept: 1 for the user's own words, synonymMatch for a synonym, 0 for
// none.
func conceptMatch(set []int32, c *concept) float64 {
	for i, alt := range c.ids {
		if has(set, alt) {
			if i == 0 {
				return 1
			}
			return synonymMatch
		}
	}
	return 0
}

func has(set []int32, alt []int32) bool {
	if len(alt) == 0 {
		return false
	}
	for _, t := range alt {
		if _, ok := slices.BinarySearch(set, t); !ok {
			return false
		}
	}
	return true
}

// match returns the weighted share of the question's concepts that the
// article contains, and the best Dice-like overlap with one of the
// article's own questions (or its title). Words unknown to the knowledge
// count half against both.
func (li *langIndex) match(cs []concept, id string) (coverage, qmatch float64) {
	return li.matchWith(cs, li.matchDenom(cs), id)
}

// matchDenom is the question's weight against which every article's
// match is measured: its concepts' weights, unknown ones counting
// unknownFactor.
func (li *langIndex) matchDenom(cs []concept) float64 {
	denom := 0.0
	for i := range cs {
		if li.known(cs[i]) {
			denom += cs[i].weight
		} else {
			denom += unknownFactor * cs[i].weight
		}
	}
	return denom
}

// matchWith is match with the question's matchDenom, the same for every
// article.
func (li *langIndex) matchWith(cs []concept, denom float64, id string) (coverage, qmatch float64) {
	ds := li.docs[id]
	if ds == nil {
		return 0, 0
	}
	got := 0.0
	var buf [16]int
	present := buf[:0] // the concepts the article has
	for ci := range cs {
		c := &cs[ci]
		if m := conceptMatch(ds.termSet, c); m > 0 {
			got += c.weight * m
			present = append(present, ci)
		}
	}
	if denom == 0 {
		return 0, 0
	}
	coverage = got / denom
	// Each question's overlap: every present concept adds its weight (times
	// synonymMatch when only a synonym matches) to the questions that have
	// it, the concepts in question order, as a question-by-question sum
	// would.
	nq, stride := len(ds.questionSets), ds.qStride
	var interBuf [64]float64
	var inter []float64
	if nq <= len(interBuf) {
		inter = interBuf[:nq]
	} else {
		inter = make([]float64, nq)
	}
	var maskBuf [8]uint64
	var masks []uint64
	if 2*stride <= len(maskBuf) {
		masks = maskBuf[:2*stride]
	} else {
		masks = make([]uint64, 2*stride)
	}
	m, done := masks[:stride], masks[stride:]
	for _, ci := range present {
		c := &cs[ci]
		clear(done)
		for i, alt := range c.ids {
			if !ds.questionsWith(alt, m) {
				continue
			}
			v := c.weight * 1
			if i > 0 {
				v = c.weight * synonymMatch
			}
			for w := range m {
				for x := m[w] &^ done[w]; x != 0; x &= x - 1 {
					inter[w*64+bits.TrailingZeros64(x)] += v
				}
				done[w] |= m[w]
			}
		}
	}
	for qi, in := range inter {
		if qw := ds.qweights[qi]; qw != 0 {
			qmatch = max(qmatch, min(1, 2*in/(denom+qw)))
		}
	}
	return coverage, qmatch
}

// signals are what the calibrator reads for one candidate.
type signals struct {
	prob, none, margin float64
	bleveRel           float64 // Bleve's score relative to its best
	bleveRank          int     // 0 when Bleve did not return the article
	fused              float64 // reciprocal-rank fusion score
	coverage, qmatch   float64
	known              float64
	anchored           bool
	concepts           int // how many concepts the question has (its length)
}

func (s signals) vector() [calibN]float64 {
	b := func(v bool) float64 {
		if v {
			return 1
		}
		return 0
	}
	lg := func(p float64) float64 {
		p = min(max(p, 1e-4), 1-1e-4)
		return math.Log(p / (1 - p))
	}
	// Bleve's rank and the fusion score were tried as signals too; the
	// cross-validation ranked better without them (ranked first en 0.844
	// vs 0.831, fr 0.830 vs 0.824), so Bleve counts by its relative score.
	//
	// The unrelated class counts twice, as a probability and as its logit:
	// the logit tells 0.01 from 0.001 and 0.99 from 0.999, where the
	// probability is flat, so the pair gives the calibrator a curved
	// response to it (with UnrelatedWeight, 5-fold CV score 3.645 -> 3.658,
	// Brier en 0.0965 -> 0.0957, fr 0.1022 -> 0.1020; see cv.go). The
	// earlier round also tried interactions (coverage x concept count,
	// probability x unrelated, coverage x anchored), the logit margin to
	// the runner-up, an IDF-weighted known share and a per-language bias:
	// none improved the cross-validated score and Brier together.
	return [calibN]float64{lg(s.prob), s.none, s.margin, s.bleveRel, s.coverage, s.qmatch, s.known, b(s.anchored), math.Log1p(float64(s.concepts)), lg(s.none)}
}

const calibN = 10

// calibrate maps a candidate's signals to the probability that it is the
// right article (logistic regression fitted on cross-validation folds).
func calibrate(s signals) float64 { return Calibration.apply(s.vector()) }

// Calibrator is the logistic map from a candidate's signals to its
// confidence.
type Calibrator struct {
	W    [calibN]float64
	Bias float64
}

func allNumbers(cs []concept) bool {
	for _, c := range cs {
		if len(c.alts[0]) != 1 || !isNumber(c.alts[0][0]) {
			return false
		}
	}
	return true
}
