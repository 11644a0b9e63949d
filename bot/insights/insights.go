// Package insights records where the bot fails so staff can improve the
// knowledge: the questions it could not answer with confidence (their text,
// the nearest articles, when, on which platform, in which language; never who
// asked) and the 👍/👎 feedback on answers, counted per article and day.
//
// A Store is a bot.Observer. It keeps its records in the shared bbolt file,
// in Redis with several replicas (OpenRedis: every replica records into the
// same store), or in memory when there is neither (terminal use). Writes to
// bbolt or Redis go through one background writer so the router is never
// slowed by disk or network I/O.
package insights

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"go.etcd.io/bbolt"

	"github.com/impbot/impbot/bot"
	"github.com/impbot/impbot/bot/cluster"
)

// Bucket names in the shared bbolt file.
var (
	bucketQuestions = []byte("insights.unanswered")
	bucketFeedback  = []byte("insights.feedback")
)

// OutcomeLowConfidence marks an answered question recorded because the
// answer's confidence was low (Options.LowConfidence).
const OutcomeLowConfidence = "low_confidence"

// Defaults.
const (
	DefaultRetention         = 30 * 24 * time.Hour
	DefaultFeedbackRetention = 365 * 24 * time.Hour
	DefaultSweepEvery        = time.Hour
	DefaultMaxMemory         = 10000
	// MaxTextRunes bounds the stored question text.
	MaxTextRunes = 500
	// MaxCandidates is how many nearest articles are kept per question.
	MaxCandidates = 3
	queueSize     = 1024
	maxBatch      = 256
)

// Options configure a Store.
type Options struct {
	// Retention is how long unanswered questions are kept. Zero turns
	// recording off (and deletes what an earlier run recorded).
	Retention time.Duration
	// FeedbackRetention is how long the daily feedback counts are kept
	// (default one year). They hold no text and no identity.
	FeedbackRetention time.Duration
	// SweepEvery is how often expired records are deleted (default hourly).
	SweepEvery time.Duration
	// LowConfidence, when above 0, also records answered questions whose
	// answer's confidence is below it (outcome "low_confidence"): the
	// answer may be wrong, and staff may want to teach the phrasing.
	LowConfidence float64
	// MaxMemory bounds the questions kept in memory when there is no store
	// file (default 10,000; the oldest go first).
	MaxMemory int
	// MaxShared bounds the questions kept in Redis (default 100,000; the
	// oldest go first).
	MaxShared int
	Log       *slog.Logger
	// Now is the clock (for tests); default time.Now.
	Now func() time.Time
}

// Store records unanswered questions and feedback. It is safe for concurrent
// use. Create it with Open and Close it before closing the bbolt file.
type Store struct {
	opt Options
	db  *bbolt.DB      // nil: in memory (or in Redis when red is set)
	red *cluster.Redis // the shared store (sessions.backend: redis)

	// bbolt mode: a queue drained by one writer goroutine.
	mu      sync.RWMutex // guards closed against sends on queue
	closed  bool
	queue   chan any
	done    chan struct{}
	dropped atomic.Uint64

	// memory mode.
	memMu    sync.Mutex
	mem      []record
	memFB    map[fbKey]*counts
	memSweep time.Time
}

// record is one stored unanswered question.
type record struct {
	Time     time.Time   `json:"t"`
	Platform string      `json:"p,omitempty"`
	Lang     string      `json:"l,omitempty"`
	Text     string      `json:"q"`
	Outcome  string      `json:"o"`
	Cands    []Candidate `json:"c,omitempty"`
}

// Candidate is an article near a question, with the search confidence.
type Candidate struct {
	ID         string  `json:"id"`
	Confidence float64 `json:"confidence"`
}

type fbKey struct{ day, id string }

type counts struct{ up, down uint64 }

type feedbackEvent struct {
	day, id string
	up      bool
}

type flushReq chan error

// Open returns a store over db, or in memory when db is nil. It creates its
// buckets, deletes expired records and, with a db, starts the writer.
func Open(db *bbolt.DB, opt Options) (*Store, error) {
	if opt.Retention < 0 {
		opt.Retention = 0
	}
	if opt.FeedbackRetention <= 0 {
		opt.FeedbackRetention = DefaultFeedbackRetention
	}
	if opt.SweepEvery <= 0 {
		opt.SweepEvery = DefaultSweepEvery
	}
	if opt.MaxMemory <= 0 {
		opt.MaxMemory = DefaultMaxMemory
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	s := &Store{opt: opt, db: db, memFB: map[fbKey]*counts{}}
	if db == nil {
		return s, nil
	}
	if db.IsReadOnly() {
		return nil, errors.New("insights: the store is open read-only")
	}
	err := db.Update(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketQuestions, bucketFeedback} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("create bucket %s: %w", b, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("insights: %w", err)
	}
	if err := s.Sweep(); err != nil {
		return nil, err
	}
	s.queue = make(chan any, queueSize)
	s.done = make(chan struct{})
	go s.writer()
	return s, nil
}

// Recording reports whether unanswered questions are recorded.
func (s *Store) Recording() bool { return s.opt.Retention > 0 }

// Dropped returns how many events were dropped because the writer was behind.
func (s *Store) Dropped() uint64 { return s.dropped.Load() }

// Question records ev when the bot had no confident answer (outcome unsure or
// unrelated). It never blocks on disk.
func (s *Store) Question(ev bot.QuestionEvent) {
	if !s.Recording() {
		return
	}
	outcome := ev.Outcome
	switch {
	case outcome == bot.OutcomeUnsure || outcome == bot.OutcomeUnrelated:
	case outcome == bot.OutcomeAnswered && len(ev.Candidates) > 0 && ev.Candidates[0].Confidence < s.opt.LowConfidence:
		outcome = OutcomeLowConfidence
	default:
		return
	}
	text := clip(strings.TrimSpace(ev.Text), MaxTextRunes)
	if text == "" {
		return
	}
	t := ev.Time
	if t.IsZero() {
		t = s.opt.Now()
	}
	rec := record{Time: t.UTC(), Platform: ev.Platform, Lang: ev.Lang, Text: text, Outcome: outcome}
	for _, h := range ev.Candidates {
		if len(rec.Cands) == MaxCandidates {
			break
		}
		rec.Cands = append(rec.Cands, Candidate{ID: h.ID, Confidence: h.Confidence})
	}
	if s.queue == nil {
		s.memAddQuestion(rec)
		return
	}
	s.enqueue(rec)
}

// Feedback counts a 👍 or 👎 for the article.
func (s *Store) Feedback(ev bot.FeedbackEvent) {
	if ev.Topic == "" {
		return
	}
	t := ev.Time
	if t.IsZero() {
		t = s.opt.Now()
	}
	fe := feedbackEvent{day: day(t), id: ev.Topic, up: ev.Helpful}
	if s.queue == nil {
		s.memMu.Lock()
		c := s.memFB[fbKey{fe.day, fe.id}]
		if c == nil {
			c = &counts{}
			s.memFB[fbKey{fe.day, fe.id}] = c
		}
		if fe.up {
			c.up++
		} else {
			c.down++
		}
		s.memMu.Unlock()
		return
	}
	s.enqueue(fe)
}

func (s *Store) enqueue(ev any) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		s.dropped.Add(1)
		return
	}
	select {
	case s.queue <- ev:
	default:
		if s.dropped.Add(1)%100 == 1 {
			s.opt.Log.Warn("insights: writer is behind; dropping records", "dropped", s.dropped.Load())
		}
	}
}

// Flush waits until everything recorded so far is written.
func (s *Store) Flush(ctx context.Context) error {
	if s.queue == nil {
		return nil
	}
	req := make(flushReq, 1)
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil
	}
	select {
	case s.queue <- req:
		s.mu.RUnlock()
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	}
	select {
	case err := <-req:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close writes what is queued and stops the writer. It does not close the
// bbolt file. Calls after the first do nothing.
func (s *Store) Close() error {
	if s.queue == nil {
		return nil
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.queue)
	s.mu.Unlock()
	<-s.done
	return nil
}

// writer drains the queue in batches, one bbolt transaction per batch, and
// sweeps expired records periodically.
func (s *Store) writer() {
	defer close(s.done)
	tick := time.NewTicker(s.opt.SweepEvery)
	defer tick.Stop()
	for {
		select {
		case ev, ok := <-s.queue:
			if !ok {
				return
			}
			batch := []any{ev}
		drain:
			for len(batch) < maxBatch {
				select {
				case ev, ok := <-s.queue:
					if !ok {
						break drain
					}
					batch = append(batch, ev)
				default:
					break drain
				}
			}
			s.writeBatch(batch)
		case <-tick.C:
			if err := s.Sweep(); err != nil {
				s.opt.Log.Error("insights: sweep failed", "err", err)
			}
		}
	}
}

func (s *Store) writeBatch(batch []any) {
	if s.red != nil {
		s.writeRedis(batch)
		return
	}
	var flushes []flushReq
	n := 0
	err := s.db.Update(func(tx *bbolt.Tx) error {
		qb, fb := tx.Bucket(bucketQuestions), tx.Bucket(bucketFeedback)
		if qb == nil || fb == nil {
			return errors.New("insights buckets are missing")
		}
		for _, ev := range batch {
			switch ev := ev.(type) {
			case flushReq:
				flushes = append(flushes, ev)
			case record:
				data, err := json.Marshal(ev)
				if err != nil {
					return fmt.Errorf("encode question: %w", err)
				}
				seq, err := qb.NextSequence()
				if err != nil {
					return fmt.Errorf("sequence: %w", err)
				}
				if err := qb.Put(questionKey(ev.Time, seq), data); err != nil {
					return fmt.Errorf("put question: %w", err)
				}
				n++
			case feedbackEvent:
				k := []byte(ev.day + "/" + ev.id)
				c := decodeCounts(fb.Get(k))
				if ev.up {
					c.up++
				} else {
					c.down++
				}
				if err := fb.Put(k, encodeCounts(c)); err != nil {
					return fmt.Errorf("put feedback: %w", err)
				}
				n++
			}
		}
		return nil
	})
	if err != nil {
		err = fmt.Errorf("insights: write %d record(s): %w", n, err)
		s.opt.Log.Error("insights: write failed", "err", err)
	}
	for _, f := range flushes {
		f <- err
	}
}

// Sweep deletes questions older than the retention and feedback counts older
// than the feedback retention.
func (s *Store) Sweep() error {
	now := s.opt.Now()
	qCut := now.Add(-s.opt.Retention)
	fCut := day(now.Add(-s.opt.FeedbackRetention))
	if s.red != nil {
		return s.sweepRedis(qCut, fCut)
	}
	if s.db == nil {
		s.memMu.Lock()
		s.memSweepLocked(qCut, fCut)
		s.memMu.Unlock()
		return nil
	}
	// Delete in bounded transactions so a large backlog never holds the
	// writer lock for long.
	for {
		var more bool
		err := s.db.Update(func(tx *bbolt.Tx) error {
			var err error
			more, err = sweepBucket(tx.Bucket(bucketQuestions), func(k []byte) bool {
				return len(k) >= 8 && int64(binary.BigEndian.Uint64(k[:8])) < qCut.UnixNano()
			})
			if err != nil {
				return err
			}
			var moreFB bool
			moreFB, err = sweepBucket(tx.Bucket(bucketFeedback), func(k []byte) bool {
				d, _, _ := bytes.Cut(k, []byte("/"))
				return string(d) < fCut
			})
			more = more || moreFB
			return err
		})
		if err != nil {
			return fmt.Errorf("insights: sweep: %w", err)
		}
		if !more {
			return nil
		}
	}
}

// sweepBucket deletes up to 5,000 leading keys (keys sort by time) for which
// expired is true. more reports that it stopped at the bound.
func sweepBucket(b *bbolt.Bucket, expired func(k []byte) bool) (more bool, err error) {
	if b == nil {
		return false, nil
	}
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.First(); k != nil && expired(k); k, _ = c.Next() {
		if len(keys) == 5000 {
			more = true
			break
		}
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return false, err
		}
	}
	return more, nil
}

func (s *Store) memAddQuestion(rec record) {
	s.memMu.Lock()
	defer s.memMu.Unlock()
	s.mem = append(s.mem, rec)
	if len(s.mem) > s.opt.MaxMemory {
		s.mem = append(s.mem[:0], s.mem[len(s.mem)-s.opt.MaxMemory:]...)
	}
	now := s.opt.Now()
	if now.Sub(s.memSweep) > time.Minute {
		s.memSweepLocked(now.Add(-s.opt.Retention), day(now.Add(-s.opt.FeedbackRetention)))
	}
}

func (s *Store) memSweepLocked(qCut time.Time, fCut string) {
	s.memSweep = s.opt.Now()
	i := 0
	for i < len(s.mem) && s.mem[i].Time.Before(qCut) {
		i++
	}
	if i > 0 {
		s.mem = append(s.mem[:0], s.mem[i:]...)
	}
	for k := range s.memFB {
		if k.day < fCut {
			delete(s.memFB, k)
		}
	}
}

func questionKey(t time.Time, seq uint64) []byte {
	k := make([]byte, 16)
	binary.BigEndian.PutUint64(k[:8], uint64(t.UnixNano()))
	binary.BigEndian.PutUint64(k[8:], seq)
	return k
}

func encodeCounts(c counts) []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint64(b[:8], c.up)
	binary.BigEndian.PutUint64(b[8:], c.down)
	return b
}

func decodeCounts(b []byte) counts {
	if len(b) != 16 {
		return counts{}
	}
	return counts{up: binary.BigEndian.Uint64(b[:8]), down: binary.BigEndian.Uint64(b[8:])}
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// ReportOptions select what a report covers.
type ReportOptions struct {
	// Since is the start of the period (inclusive).
	Since time.Time
	// Top bounds the question groups listed (default 20).
	Top int
	// Nearest bounds the articles listed per group (default 3).
	Nearest int
}

// Report is what staff see: the most frequent unanswered questions and the
// feedback per article over a period.
type Report struct {
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	// Recording is false when recording is turned off.
	Recording bool `json:"recording"`
	// Total is the number of unanswered questions in the period; Distinct
	// the number of groups (after normalisation).
	Total     int   `json:"total"`
	Distinct  int   `json:"distinct"`
	Questions []Gap `json:"questions"`
	// Feedback lists articles with feedback, most 👎 first.
	Feedback []ArticleFeedback `json:"feedback"`
}

// Gap is one group of unanswered questions with the same normalised text.
type Gap struct {
	// Text is the most recent wording; Normalized the grouping key.
	Text       string         `json:"text"`
	Normalized string         `json:"normalized"`
	Count      int            `json:"count"`
	Outcomes   map[string]int `json:"outcomes"`
	Platforms  map[string]int `json:"platforms"`
	Langs      map[string]int `json:"langs"`
	FirstSeen  time.Time      `json:"first_seen"`
	LastSeen   time.Time      `json:"last_seen"`
	// Nearest lists the articles closest to the group, with the best
	// confidence each reached.
	Nearest []Candidate `json:"nearest"`
}

// ArticleFeedback is the feedback on one article.
type ArticleFeedback struct {
	ID        string `json:"id"`
	Helpful   uint64 `json:"helpful"`
	Unhelpful uint64 `json:"unhelpful"`
}

// Report builds the report from what is recorded (after writing what is
// queued).
func (s *Store) Report(ctx context.Context, ro ReportOptions) (*Report, error) {
	if err := s.Flush(ctx); err != nil {
		return nil, fmt.Errorf("insights: flush: %w", err)
	}
	var b reportBuilder
	b.init(ro, s.opt.Now())
	b.rep.Recording = s.Recording()
	if s.red != nil {
		if err := readRedis(ctx, s.red, &b); err != nil {
			return nil, err
		}
		return b.finish(), nil
	}
	if s.db == nil {
		s.memMu.Lock()
		for _, r := range s.mem {
			b.addQuestion(r)
		}
		for k, c := range s.memFB {
			b.addFeedback(k.day, k.id, *c)
		}
		s.memMu.Unlock()
		return b.finish(), nil
	}
	if err := s.db.View(b.readTx); err != nil {
		return nil, fmt.Errorf("insights: read: %w", err)
	}
	return b.finish(), nil
}

// ReadReport builds a report straight from a bbolt file (which may be open
// read-only), for `impbot kb gaps` when the bot is not running.
func ReadReport(db *bbolt.DB, ro ReportOptions, now time.Time) (*Report, error) {
	var b reportBuilder
	b.init(ro, now)
	b.rep.Recording = true
	if err := db.View(b.readTx); err != nil {
		return nil, fmt.Errorf("insights: read: %w", err)
	}
	return b.finish(), nil
}

type reportBuilder struct {
	ro     ReportOptions
	rep    Report
	groups map[string]*gapAcc
	fb     map[string]*ArticleFeedback
}

type gapAcc struct {
	gap  Gap
	best map[string]float64
}

func (b *reportBuilder) init(ro ReportOptions, now time.Time) {
	if ro.Top <= 0 {
		ro.Top = 20
	}
	if ro.Nearest <= 0 {
		ro.Nearest = 3
	}
	b.ro = ro
	b.rep = Report{Since: ro.Since.UTC(), Until: now.UTC(), Questions: []Gap{}, Feedback: []ArticleFeedback{}}
	b.groups = map[string]*gapAcc{}
	b.fb = map[string]*ArticleFeedback{}
}

func (b *reportBuilder) readTx(tx *bbolt.Tx) error {
	if qb := tx.Bucket(bucketQuestions); qb != nil {
		c := qb.Cursor()
		for k, v := c.Seek(questionKey(b.ro.Since, 0)); k != nil; k, v = c.Next() {
			var r record
			if err := json.Unmarshal(v, &r); err != nil {
				continue // a damaged record never spoils the report
			}
			b.addQuestion(r)
		}
	}
	if fb := tx.Bucket(bucketFeedback); fb != nil {
		err := fb.ForEach(func(k, v []byte) error {
			d, id, ok := bytes.Cut(k, []byte("/"))
			if ok {
				b.addFeedback(string(d), string(id), decodeCounts(v))
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (b *reportBuilder) addQuestion(r record) {
	if r.Time.Before(b.ro.Since) {
		return
	}
	key := Normalize(r.Text)
	if key == "" {
		return
	}
	b.rep.Total++
	g := b.groups[key]
	if g == nil {
		g = &gapAcc{gap: Gap{Normalized: key, Outcomes: map[string]int{}, Platforms: map[string]int{},
			Langs: map[string]int{}, FirstSeen: r.Time}, best: map[string]float64{}}
		b.groups[key] = g
	}
	g.gap.Count++
	g.gap.Outcomes[r.Outcome]++
	if r.Platform != "" {
		g.gap.Platforms[r.Platform]++
	}
	if r.Lang != "" {
		g.gap.Langs[r.Lang]++
	}
	if r.Time.Before(g.gap.FirstSeen) {
		g.gap.FirstSeen = r.Time
	}
	if !r.Time.Before(g.gap.LastSeen) {
		g.gap.LastSeen = r.Time
		g.gap.Text = r.Text
	}
	for _, c := range r.Cands {
		if old, ok := g.best[c.ID]; !ok || c.Confidence > old {
			g.best[c.ID] = c.Confidence
		}
	}
}

func (b *reportBuilder) addFeedback(d, id string, c counts) {
	if d < day(b.ro.Since) {
		return
	}
	f := b.fb[id]
	if f == nil {
		f = &ArticleFeedback{ID: id}
		b.fb[id] = f
	}
	f.Helpful += c.up
	f.Unhelpful += c.down
}

func (b *reportBuilder) finish() *Report {
	b.rep.Distinct = len(b.groups)
	for _, g := range b.groups {
		for id, conf := range g.best {
			g.gap.Nearest = append(g.gap.Nearest, Candidate{ID: id, Confidence: conf})
		}
		sort.Slice(g.gap.Nearest, func(i, j int) bool {
			if g.gap.Nearest[i].Confidence != g.gap.Nearest[j].Confidence {
				return g.gap.Nearest[i].Confidence > g.gap.Nearest[j].Confidence
			}
			return g.gap.Nearest[i].ID < g.gap.Nearest[j].ID
		})
		if len(g.gap.Nearest) > b.ro.Nearest {
			g.gap.Nearest = g.gap.Nearest[:b.ro.Nearest]
		}
		if g.gap.Nearest == nil {
			g.gap.Nearest = []Candidate{}
		}
		b.rep.Questions = append(b.rep.Questions, g.gap)
	}
	qs := b.rep.Questions
	sort.Slice(qs, func(i, j int) bool {
		if qs[i].Count != qs[j].Count {
			return qs[i].Count > qs[j].Count
		}
		if !qs[i].LastSeen.Equal(qs[j].LastSeen) {
			return qs[i].LastSeen.After(qs[j].LastSeen)
		}
		return qs[i].Normalized < qs[j].Normalized
	})
	if len(qs) > b.ro.Top {
		b.rep.Questions = qs[:b.ro.Top]
	}
	for _, f := range b.fb {
		b.rep.Feedback = append(b.rep.Feedback, *f)
	}
	fs := b.rep.Feedback
	sort.Slice(fs, func(i, j int) bool {
		if fs[i].Unhelpful != fs[j].Unhelpful {
			return fs[i].Unhelpful > fs[j].Unhelpful
		}
		if fs[i].Helpful != fs[j].Helpful {
			return fs[i].Helpful > fs[j].Helpful
		}
		return fs[i].ID < fs[j].ID
	})
	return &b.rep
}
