package index

import (
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/impbot/impbot/knowledge"
)

// The ranker is a multinomial logistic regression learned from the knowledge
// itself: every article's questions, title, keywords and summary are
// examples of its class, and the language's unrelated.yaml examples are one
// more class, "none". Its features are word stems, pairs of neighbouring
// stems, synonym groups and character 3–5-grams of the words (which carry
// typos and inflections the stems miss). It is trained in one pass at build
// time (a few epochs of SGD), so a knowledge reload retrains it.

// RankConfig holds the ranker's settings. The values in use (DefaultRank)
// were chosen by cross-validation (see cv.go and `impbot kb cv`).
type RankConfig struct {
	Epochs int
	// LR is the SGD learning rate of the first epoch; it decays linearly.
	LR float64
	// L2 shrinks the weights touched by each step.
	L2 float64
	// Feature family weights.
	WStem, WPair, WSyn, WChar float64
	// WFocus weighs a family of the stems of the sentence that asks (the
	// last one with a question mark, else the last one): people tell their
	// story first, and the question is at the end. 0: no such family.
	WFocus float64
	// How much the ranker's and Bleve's rankings count in the fusion
	// (weighted reciprocal-rank fusion with constant RRFK).
	WRanker, WBleve, RRFK float64
	// How much each kind of example counts in training.
	WTitle, WKeyword, WSummary, WBody float64
	// Augment adds, for each question, copies with one content word left
	// out (at most this many), so that no single word decides.
	Augment int
	// NormPow: each feature family's values are its weight divided by the
	// family's feature count to this power (0.5: L2-normalised).
	NormPow float64
	// MaxRankerArticles: above this many articles in a language, no ranker
	// is trained for it and answers are ranked by Bleve alone (training
	// grows with articles × examples: about 70 s for 1,000 articles on the
	// development machine). 0 means no limit.
	MaxRankerArticles int
}

// usesRanker tells whether a language with n articles gets a ranker.
func (c *RankConfig) usesRanker(n int) bool {
	return c.MaxRankerArticles <= 0 || n <= c.MaxRankerArticles
}

// classNone is the class of the unrelated examples.
const classNone = ""

type example struct {
	class int
	w     float64
	fv    featVec
}

type featVec struct {
	keys []uint64
	vals []float32
}

type model struct {
	classes []string // article IDs, then classNone
	classOf map[string]int
	nc      int
	feat    map[uint64]int32
	w       []float32 // len(feat) rows of nc
	b       []float32
	// table is feat as a flat table, made by the first prediction (feat
	// is complete by then: training fills it before it predicts).
	table atomic.Pointer[featTable]
}

const (
	famStem byte = iota + 1
	famPair
	famSyn
	famChar
	famFocus
)

func hashFeat(fam byte, parts ...string) uint64 {
	h := uint64(14695981039346656037) ^ uint64(fam)
	h *= 1099511628211
	for i, p := range parts {
		if i > 0 {
			h ^= 0xff
			h *= 1099511628211
		}
		for j := 0; j < len(p); j++ {
			h ^= uint64(p[j])
			h *= 1099511628211
		}
	}
	return h
}

// hashRunes is hashFeat of string(rs) without building the string.
func hashRunes(fam byte, rs []rune) uint64 {
	h := uint64(14695981039346656037) ^ uint64(fam)
	h *= 1099511628211
	var b [4]byte
	for _, r := range rs {
		n := utf8.EncodeRune(b[:], r)
		for j := 0; j < n; j++ {
			h ^= uint64(b[j])
			h *= 1099511628211
		}
	}
	return h
}

// featScratch is the reusable memory of one features call.
type featScratch struct {
	seen keySet
	keys []uint64
}

var featPool = sync.Pool{New: func() any { return &featScratch{} }}

// features turns a parsed text into a feature vector: each family's values
// sum to its weight in squares (binary features, L2-normalised per family).
func (li *langIndex) features(q *parsed, cfg *RankConfig) featVec {
	var fv featVec
	fs := featPool.Get().(*featScratch)
	defer featPool.Put(fs)
	seen := &fs.seen
	addFam := func(fam byte, keys []uint64, w float64) {
		if len(keys) == 0 || w == 0 {
			return
		}
		// de-duplicate, keeping the first of each
		seen.reset(len(keys))
		uniq := keys[:0]
		for _, k := range keys {
			if seen.add(k) {
				uniq = append(uniq, k)
			}
		}
		if fv.keys == nil {
			fv.keys = make([]uint64, 0, len(uniq)+len(q.stems)*8)
			fv.vals = make([]float32, 0, cap(fv.keys))
		}
		v := float32(w / math.Pow(float64(len(uniq)), cfg.NormPow))
		for _, k := range uniq {
			fv.keys = append(fv.keys, k)
			fv.vals = append(fv.vals, v)
		}
	}
	ks := fs.keys[:0]
	defer func() { fs.keys = ks[:0] }()
	for _, s := range q.stems {
		ks = append(ks, hashFeat(famStem, s))
	}
	addFam(famStem, ks, cfg.WStem)
	ks = ks[:0]
	for i := 1; i < len(q.stems); i++ {
		ks = append(ks, hashFeat(famPair, q.stems[i-1], q.stems[i]))
	}
	addFam(famPair, ks, cfg.WPair)
	ks = ks[:0]
	for _, g := range q.groups {
		ks = append(ks, hashFeat(famSyn, string(rune(g+1))))
	}
	addFam(famSyn, ks, cfg.WSyn)
	ks = ks[:0]
	for _, w := range q.content {
		if len(w) > 40 {
			continue // not a word: no n-grams
		}
		var buf [48]rune
		rs := append(buf[:0], ' ')
		for _, r := range w {
			rs = append(rs, r)
		}
		rs = append(rs, ' ')
		for n := 3; n <= 5; n++ {
			for i := 0; i+n <= len(rs); i++ {
				ks = append(ks, hashRunes(famChar, rs[i:i+n]))
			}
		}
	}
	addFam(famChar, ks, cfg.WChar)
	if cfg.WFocus > 0 {
		ks = ks[:0]
		for _, s := range q.stems[q.focusFrom:] {
			ks = append(ks, hashFeat(famFocus, s))
		}
		addFam(famFocus, ks, cfg.WFocus)
	}
	return fv
}

// trainingExamples lists the examples of each article and the unrelated
// ones, with the index of their class.
func (li *langIndex) trainingExamples(arts []*knowledge.Article, unrelated []string, cfg *RankConfig) ([]string, []example) {
	classes := make([]string, 0, len(arts)+1)
	var exs []example
	add := func(c int, text string, w float64) {
		if w <= 0 || strings.TrimSpace(text) == "" {
			return
		}
		p := li.parse(text, false)
		fv := li.features(p, cfg)
		if len(fv.keys) == 0 {
			return
		}
		exs = append(exs, example{class: c, w: w, fv: fv})
	}
	for _, a := range arts {
		c := len(classes)
		classes = append(classes, a.ID)
		for _, q := range a.Questions {
			add(c, q, 1)
			if cfg.Augment > 0 {
				ws := strings.Fields(q)
				step := max(1, len(ws)/cfg.Augment)
				for i := 0; i < len(ws) && len(ws) > 3; i += step {
					add(c, strings.Join(append(append([]string{}, ws[:i]...), ws[i+1:]...), " "), 0.5)
				}
			}
		}
		add(c, a.Title, cfg.WTitle)
		for _, k := range a.Keywords {
			add(c, k, cfg.WKeyword)
		}
		add(c, a.Summary, cfg.WSummary)
		if cfg.WBody > 0 {
			for _, para := range strings.Split(a.Body, "\n\n") {
				add(c, para, cfg.WBody)
			}
		}
	}
	none := len(classes)
	classes = append(classes, classNone)
	for _, u := range unrelated {
		add(none, u, 1)
	}
	return classes, exs
}

// train fits the model with SGD on the softmax cross-entropy.
func train(classes []string, exs []example, cfg *RankConfig) *model {
	m := &model{classes: classes, nc: len(classes), feat: map[uint64]int32{}}
	m.index()
	for _, e := range exs {
		for _, k := range e.fv.keys {
			if _, ok := m.feat[k]; !ok {
				m.feat[k] = int32(len(m.feat))
			}
		}
	}
	nc := m.nc
	m.w = make([]float32, len(m.feat)*nc)
	m.b = make([]float32, nc)
	// Class priors: the bias starts at zero; each class has examples.
	idx := make([][]int32, len(exs))
	for i, e := range exs {
		idx[i] = make([]int32, len(e.fv.keys))
		for j, k := range e.fv.keys {
			idx[i][j] = m.feat[k]
		}
	}
	order := make([]int, len(exs))
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(1, 2))
	z := make([]float32, nc)
	steps := cfg.Epochs * len(exs)
	t := 0
	for ep := 0; ep < cfg.Epochs; ep++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			e := &exs[i]
			lr := float32(cfg.LR * (1 - float64(t)/float64(steps+1)) * e.w)
			t++
			copy(z, m.b)
			for j, f := range idx[i] {
				v := e.fv.vals[j]
				row := m.w[int(f)*nc : int(f)*nc+nc]
				for c := range row {
					z[c] += v * row[c]
				}
			}
			softmax(z)
			z[e.class] -= 1 // gradient of the loss on the scores
			shrink := float32(1 - cfg.L2*float64(lr))
			for j, f := range idx[i] {
				v := e.fv.vals[j] * lr
				row := m.w[int(f)*nc : int(f)*nc+nc]
				for c := range row {
					row[c] = row[c]*shrink - v*z[c]
				}
			}
			for c := range m.b {
				m.b[c] -= lr * z[c] * 0.1
			}
		}
	}
	return m
}

func softmax(z []float32) {
	mx := z[0]
	for _, v := range z[1:] {
		mx = max(mx, v)
	}
	var s float32
	for i, v := range z {
		e := float32(math.Exp(float64(v - mx)))
		z[i] = e
		s += e
	}
	for i := range z {
		z[i] /= s
	}
}

// index fills classOf.
func (m *model) index() {
	m.classOf = make(map[string]int, len(m.classes))
	for i, c := range m.classes {
		m.classOf[c] = i
	}
}

// predict returns the class probabilities of a feature vector.
func (m *model) predict(fv featVec, out []float32) []float32 {
	if cap(out) < m.nc {
		out = make([]float32, m.nc)
	}
	out = out[:m.nc]
	copy(out, m.b)
	t := m.table.Load()
	if t == nil {
		t = newFeatTable(m.feat)
		m.table.Store(t) // two at once make the same table: either will do
	}
	for j, k := range fv.keys {
		f := t.row(k)
		if f < 0 {
			continue
		}
		addRow(out, m.w[int(f)*m.nc:int(f)*m.nc+m.nc], fv.vals[j])
	}
	softmax(out)
	return out
}

// addRow adds v times row to out (of the same length), four at a time
// without bounds checks; each element's sum is the same as one at a time.
func addRow(out, row []float32, v float32) {
	out = out[:len(row)]
	c := 0
	for ; c+4 <= len(row); c += 4 {
		o, r := out[c:c+4:c+4], row[c:c+4:c+4]
		o[0] += v * r[0]
		o[1] += v * r[1]
		o[2] += v * r[2]
		o[3] += v * r[3]
	}
	for ; c < len(row); c++ {
		out[c] += v * row[c]
	}
}

// charCount is the rune length of s.
func charCount(s string) int { return utf8.RuneCountInString(s) }
