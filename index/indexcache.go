package index

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/mapping"
	bindex "github.com/blevesearch/bleve_index_api"

	"github.com/impbot/impbot/index/spell"
	"github.com/impbot/impbot/knowledge"
)

// The built index of each language is cached on disk next to the trained
// rankers (CacheDir), keyed by a hash of everything it is built from: the
// knowledge's texts, the synonyms, domain words and unrelated examples, the
// ranker configuration, the analyzers, this file's format and the versions
// of Bleve and its segment format. A start with unchanged knowledge opens
// the cached Bleve index (scorch, read-only, memory-mapped) and decodes the
// statistics the re-ranker needs instead of analysing every text again; any
// change to the knowledge changes the key, so a hot reload builds a new
// index while the old one keeps answering.
//
// An entry is a folder index-<lang>-<key> holding the Bleve index (bleve/),
// the statistics (state.gob) and, written last, manifest.json: the key, the
// format, and the size and CRC-32C of every other file. An entry is used
// only when its manifest matches it byte for byte, so a corrupted,
// truncated, half-written or foreign entry is rebuilt (and rewritten),
// never trusted. Entries are written in a temporary folder and renamed into
// place, so replicas that start at once on one cache folder each see
// either no entry or a whole one. A cache folder that cannot be written is
// logged once; the index is then built in memory, as without a cache.

// indexFormat changes whenever what is cached or how it is built changes
// (the analyzers and field boosts are part of the key already).
const indexFormat = "index-v2" // v2: the body is no longer indexed, texts analysed by build.go

// keepIndexes is how many cached index entries pruning keeps: a few
// knowledge versions of both languages (each entry is about 1 MB).
const keepIndexes = 8

// bleveVersions names the versions of Bleve and its segment format this
// binary was built with ("unknown" without build information: the entry
// is then keyed by the format alone).
var bleveVersions = sync.OnceValue(func() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	var vs []string
	for _, m := range bi.Deps {
		if strings.HasPrefix(m.Path, "github.com/blevesearch/") {
			v := m.Version
			if m.Replace != nil {
				v = m.Replace.Path + "@" + m.Replace.Version
			}
			vs = append(vs, m.Path+"@"+v)
		}
	}
	if len(vs) == 0 {
		return "unknown"
	}
	slices.Sort(vs)
	return strings.Join(vs, " ")
})

// indexKey hashes what a language's index is built from.
func indexKey(lang string, arts []*knowledge.Article, syn [][]string, domain, unrelated []string, cfg RankConfig) string {
	h := sha256.New()
	w := func(s string) { io.WriteString(h, s); h.Write([]byte{0}) }
	w(indexFormat)
	w(bleveVersions())
	w(lang)
	_, adef := analyzerFor(lang)
	w(fmt.Sprintf("%v", adef))
	w(frenchExtraStop)
	w(fmt.Sprintf("%v %v", fieldBoosts, cfg))
	for _, a := range arts {
		w(a.ID)
		w(a.Kind)
		w(a.Title)
		w(a.Summary)
		w(a.Body)
		w(strings.Join(a.Questions, "\x01"))
		w(strings.Join(a.Keywords, "\x01"))
	}
	w("\x02")
	for _, g := range syn {
		w(strings.Join(g, "\x01"))
	}
	w("\x02")
	w(strings.Join(domain, "\x01"))
	w(strings.Join(unrelated, "\x01"))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func indexEntryName(lang, key string) string { return "index-" + lang + "-" + key }

// cacheState is what the re-ranker needs besides the Bleve index, in a
// form gob encodes. Term IDs are positions in Terms (sorted).
type cacheState struct {
	Key       string
	Lang      string
	N         int
	Terms     []string
	DF        []int32 // documents (articles) with each term
	Docs      []cacheDoc
	Anchors   []string
	Synonyms  []cacheSyn
	VocabWord []string
	VocabFreq []int32
	// What openReader takes from the Bleve index of this entry: its
	// document count, each queried field's average length and each term's
	// document count in the queried fields, and each document's article.
	DocTotal   uint64
	AvgLen     [len(fieldBoosts)]float64
	FieldTerms []string
	FieldDF    [][len(fieldBoosts)]uint32
	DocArt     []int32
}

type cacheDoc struct {
	ID           string
	TermSet      []int32
	QuestionSets [][]int32
	QWeights     []float64
	Sections     []cacheSection
}

type cacheSection struct {
	Idx int
	Set []int32
}

type cacheSyn struct {
	Words [][]string
	Terms [][]string
}

// manifest lists an entry's files; it is written last.
type manifest struct {
	Format string
	Key    string
	Files  []manifestFile
}

type manifestFile struct {
	Name string
	Size int64
	CRC  uint32
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func crc32Of(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// noIndexCache turns the index cache off, the ranker cache on (for
// benchmarks).
var noIndexCache bool

// cacheWarn logs once per process that the cache folder cannot be used.
var cacheWarn sync.Once

func cacheUnavailable(dir, op string, err error) {
	cacheWarn.Do(func() {
		slog.Warn("index cache unavailable: building in memory", "dir", dir, "op", op, "err", err)
	})
}

// stateOf gathers a built index's statistics for the cache.
func stateOf(key string, li *langIndex) *cacheState {
	st := &cacheState{Key: key, Lang: li.lang, N: li.n}
	st.Terms = make([]string, len(li.termIDs))
	for t, id := range li.termIDs {
		st.Terms[id] = t
	}
	st.DF = make([]int32, len(st.Terms))
	for i, t := range st.Terms {
		st.DF[i] = int32(li.df[t])
	}
	for _, id := range li.artIDs {
		ds := li.docs[id]
		cd := cacheDoc{ID: id, TermSet: ds.termSet, QuestionSets: ds.questionSets, QWeights: ds.qweights}
		for _, sec := range ds.sections {
			cd.Sections = append(cd.Sections, cacheSection{Idx: sec.idx, Set: sec.set})
		}
		st.Docs = append(st.Docs, cd)
	}
	st.Anchors = slices.Sorted(func(yield func(string) bool) {
		for a := range li.anchors {
			if !yield(a) {
				return
			}
		}
	})
	for _, g := range li.synonyms {
		st.Synonyms = append(st.Synonyms, cacheSyn{Words: g.words, Terms: g.terms})
	}
	st.VocabWord = make([]string, 0, len(li.vocab))
	for w := range li.vocab {
		st.VocabWord = append(st.VocabWord, w)
	}
	slices.Sort(st.VocabWord)
	st.VocabFreq = make([]int32, len(st.VocabWord))
	for i, w := range st.VocabWord {
		st.VocabFreq[i] = int32(li.vocab[w])
	}
	st.DocTotal = li.docTotal
	for i, f := range li.fields {
		st.AvgLen[i] = f.avgLen
	}
	st.FieldTerms = make([]string, 0, len(li.fieldDF))
	for t := range li.fieldDF {
		st.FieldTerms = append(st.FieldTerms, t)
	}
	slices.Sort(st.FieldTerms)
	st.FieldDF = make([][len(fieldBoosts)]uint32, len(st.FieldTerms))
	for i, t := range st.FieldTerms {
		st.FieldDF[i] = li.fieldDF[t].df
	}
	st.DocArt = li.docArt
	return st
}

// saveCachedLang writes a freshly built index to the cache. Errors only
// cost the next start a build: the first is logged, none is returned.
// rejected says the entry in place (if any) was found broken: it is then
// replaced even when its manifest is whole.
func saveCachedLang(cache, key string, li *langIndex, rejected bool) {
	if err := os.MkdirAll(cache, 0o755); err != nil {
		cacheUnavailable(cache, "create", err)
		return
	}
	tmp, err := os.MkdirTemp(cache, "tmp-index-")
	if err != nil {
		cacheUnavailable(cache, "write", err)
		return
	}
	if err := writeEntry(tmp, key, li); err != nil {
		os.RemoveAll(tmp)
		cacheUnavailable(cache, "write", err)
		return
	}
	final := filepath.Join(cache, indexEntryName(li.lang, key))
	if err := os.Rename(tmp, final); err != nil {
		// Another process wrote the entry first, or a broken entry is in
		// the way: a valid entry is kept, a broken one replaced.
		if !rejected && checkEntry(final, key) == nil {
			os.RemoveAll(tmp)
			return
		}
		aside := tmp + ".old"
		if os.Rename(final, aside) == nil {
			os.RemoveAll(aside)
		}
		if err := os.Rename(tmp, final); err != nil {
			os.RemoveAll(tmp)
			return
		}
	}
	li.toCache = true
	pruneIndexes(cache, keepIndexes)
}

// writeEntry writes an entry's files into dir, the manifest last.
func writeEntry(dir, key string, li *langIndex) error {
	adv, err := li.bi.Advanced()
	if err != nil {
		return fmt.Errorf("bleve index: %w", err)
	}
	ci, ok := adv.(bindex.CopyIndex)
	if !ok {
		return errors.New("bleve index cannot be copied")
	}
	cr := ci.CopyReader()
	if cr == nil {
		return errors.New("bleve index has no copy reader")
	}
	bdir := filepath.Join(dir, "bleve")
	err = cr.CopyTo(bleve.FileSystemDirectory(bdir))
	if cerr := cr.CloseCopyReader(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("copy bleve index: %w", err)
	}
	// The index's metadata, as Bleve writes it for an index on disk.
	meta := `{"storage":"scorch","index_type":"scorch"}`
	if err := os.WriteFile(filepath.Join(bdir, "index_meta.json"), []byte(meta), 0o644); err != nil {
		return fmt.Errorf("write index meta: %w", err)
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(stateOf(key, li)); err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "state.gob"), buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	m := manifest{Format: indexFormat, Key: key}
	files, err := entryFiles(dir)
	if err != nil {
		return err
	}
	for _, name := range files {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return fmt.Errorf("read back %s: %w", name, err)
		}
		m.Files = append(m.Files, manifestFile{Name: name, Size: int64(len(b)), CRC: crc32Of(b)})
	}
	mb, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), mb, 0o644); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	return nil
}

// entryFiles lists an entry's regular files but the manifest, sorted, as
// slash-separated paths relative to dir.
func entryFiles(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel != "manifest.json" {
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	sort.Strings(files)
	return files, nil
}

// checkEntry verifies an entry against its manifest: the same files, each
// of the listed size and checksum.
func checkEntry(dir, key string) error {
	_, err := readEntry(dir, key)
	return err
}

// readEntry verifies an entry and returns its decoded state.
func readEntry(dir, key string) (*cacheState, error) {
	mb, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, err
	}
	var m manifest
	if err := json.Unmarshal(mb, &m); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if m.Format != indexFormat || m.Key != key {
		return nil, errors.New("manifest of another index")
	}
	files, err := entryFiles(dir)
	if err != nil {
		return nil, err
	}
	if len(files) != len(m.Files) {
		return nil, fmt.Errorf("%d files, manifest lists %d", len(files), len(m.Files))
	}
	var state []byte
	for i, f := range m.Files {
		if files[i] != f.Name {
			return nil, fmt.Errorf("file %s not in the manifest", files[i])
		}
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Name)))
		if err != nil {
			return nil, err
		}
		if int64(len(b)) != f.Size || crc32Of(b) != f.CRC {
			return nil, fmt.Errorf("file %s does not match the manifest", f.Name)
		}
		if f.Name == "state.gob" {
			state = b
		}
	}
	if state == nil {
		return nil, errors.New("no state")
	}
	var st cacheState
	if err := gob.NewDecoder(bytes.NewReader(state)).Decode(&st); err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	if st.Key != key {
		return nil, errors.New("state of another index")
	}
	return &st, nil
}

// loadCachedLang opens the cached index of key; nil when there is none or
// it is not whole and right (rejected: it is then rebuilt and rewritten).
func loadCachedLang(cache, key, lang string, arts []*knowledge.Article, im *mapping.IndexMappingImpl, aname string, cfg RankConfig) (li *langIndex, rejected bool) {
	dir := filepath.Join(cache, indexEntryName(lang, key))
	st, err := readEntry(dir, key)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, false
		}
		slog.Info("cached index damaged: rebuilding it", "lang", lang, "err", err)
		return nil, true
	}
	li, err = langFromState(st, dir, lang, arts, im, aname, cfg)
	if err != nil {
		slog.Info("cached index damaged: rebuilding it", "lang", lang, "err", err)
		return nil, true
	}
	// An entry in use stays among the newest, so pruning keeps it.
	now := time.Now()
	_ = os.Chtimes(dir, now, now)
	li.fromCache = true
	return li, false
}

// langFromState opens an entry's Bleve index and restores the statistics.
// Bleve is guarded: a broken segment it might panic on is a miss.
func langFromState(st *cacheState, dir, lang string, arts []*knowledge.Article, im *mapping.IndexMappingImpl, aname string, cfg RankConfig) (li *langIndex, err error) {
	if st.Lang != lang || st.N != len(arts) || len(st.Docs) != len(arts) || len(st.DF) != len(st.Terms) || len(st.VocabFreq) != len(st.VocabWord) {
		return nil, errors.New("state does not match the knowledge")
	}
	li = &langIndex{
		lang:     lang,
		analyzer: im.AnalyzerNamed(aname),
		n:        st.N,
		df:       make(map[string]int, len(st.Terms)),
		idfs:     make(map[string]float64, len(st.Terms)),
		docs:     make(map[string]*docStats, len(arts)),
		anchors:  make(map[string]bool, len(st.Anchors)),
		termIDs:  make(map[string]int32, len(st.Terms)),
		vocab:    make(map[string]int, len(st.VocabWord)),
		rank:     cfg,
	}
	if li.analyzer == nil {
		return nil, fmt.Errorf("analyzer %s not available", aname)
	}
	nt := int32(len(st.Terms))
	inRange := func(ids []int32) bool {
		for _, id := range ids {
			if id < 0 || id >= nt {
				return false
			}
		}
		return true
	}
	for i, t := range st.Terms {
		li.termIDs[t] = int32(i)
		li.df[t] = int(st.DF[i])
	}
	for t := range li.df {
		li.idfs[t] = li.computeIDF(t)
	}
	for i, cd := range st.Docs {
		a := arts[i]
		if cd.ID != a.ID || !inRange(cd.TermSet) || len(cd.QWeights) != len(cd.QuestionSets) || len(cd.QuestionSets) != len(a.Questions)+1 {
			return nil, fmt.Errorf("state of article %s does not match", a.ID)
		}
		ds := &docStats{article: a, termSet: cd.TermSet, questionSets: cd.QuestionSets, qweights: cd.QWeights}
		ds.questionBits()
		nsec := len(a.Sections())
		for _, q := range cd.QuestionSets {
			if !inRange(q) {
				return nil, fmt.Errorf("state of article %s does not match", a.ID)
			}
		}
		for _, sec := range cd.Sections {
			if sec.Idx < 0 || sec.Idx >= nsec || !inRange(sec.Set) {
				return nil, fmt.Errorf("state of article %s does not match", a.ID)
			}
			ds.sections = append(ds.sections, sectionStats{idx: sec.Idx, set: sec.Set})
		}
		li.docs[a.ID] = ds
	}
	for _, a := range st.Anchors {
		li.anchors[a] = true
	}
	for _, g := range st.Synonyms {
		if len(g.Words) != len(g.Terms) {
			return nil, errors.New("state's synonyms do not match")
		}
		li.synonyms = append(li.synonyms, synGroup{words: g.Words, terms: g.Terms, own: make([]atomic.Pointer[[]string], len(g.Words))})
	}
	li.synByFirst = map[string][]synTerm{}
	for gi, g := range li.synonyms {
		for ti, tw := range g.words {
			if len(tw) > 0 {
				li.synByFirst[tw[0]] = append(li.synByFirst[tw[0]], synTerm{gi, ti})
			}
		}
	}
	for i, w := range st.VocabWord {
		li.vocab[w] = int(st.VocabFreq[i])
	}
	li.corrector = spell.NewLazyCorrector(li.vocab, 2) // indexed in the background (build)

	defer func() {
		if r := recover(); r != nil {
			li, err = nil, fmt.Errorf("open cached bleve index: panic: %v", r)
		}
	}()
	bi, err := bleve.OpenUsing(filepath.Join(dir, "bleve"), map[string]any{"read_only": true})
	if err != nil {
		return nil, fmt.Errorf("open cached bleve index: %w", err)
	}
	li.bi = bi
	if err := li.openCachedReader(st, arts); err != nil {
		bi.Close()
		return nil, err
	}
	return li, nil
}

// openCachedReader is openReader for a cached entry: the figures come
// from the entry's state, checked against its Bleve index (the document
// count, and the document number of every article).
func (li *langIndex) openCachedReader(st *cacheState, arts []*knowledge.Article) error {
	if len(st.FieldDF) != len(st.FieldTerms) || uint64(len(st.DocArt)) < st.DocTotal {
		return errors.New("state's Bleve figures do not match")
	}
	r, err := li.snapshot()
	if err != nil {
		return err
	}
	n, err := r.DocCount()
	if err != nil || n != st.DocTotal {
		r.Close()
		return fmt.Errorf("cached bleve index has %d documents, its state %d (%v)", n, st.DocTotal, err)
	}
	for i, a := range arts {
		iid, err := r.InternalID(a.ID)
		if err != nil || len(iid) != 8 || iid.Value() >= uint64(len(st.DocArt)) || st.DocArt[iid.Value()] != int32(i) {
			r.Close()
			return fmt.Errorf("cached bleve index: article %s is not where its state says (%v)", a.ID, err)
		}
	}
	for _, a := range st.DocArt {
		if a < -1 || int(a) >= len(arts) {
			r.Close()
			return errors.New("state's document numbers do not match")
		}
	}
	li.docTotal = st.DocTotal
	for i, f := range fieldBoosts {
		li.fields[i] = queryField{name: f.name, avgLen: st.AvgLen[i]}
	}
	li.fieldDF = make(map[string]*termFields, len(st.FieldTerms))
	for i, t := range st.FieldTerms {
		li.fieldDF[t] = &termFields{df: st.FieldDF[i]}
	}
	li.docArt = st.DocArt
	li.artIDs = make([]string, len(arts))
	for i, a := range arts {
		li.artIDs[i] = a.ID
	}
	nd := len(li.docArt)
	li.scratch.New = func() any { return &scoreScratch{acc: make([]float64, nd), cnt: make([]uint16, nd)} }
	li.reader = r
	return nil
}

// pruneIndexes removes all but the keep most recently used entries of dir,
// and temporary folders left by a writer that died an hour ago or more.
// Errors are ignored: the cache only saves time. A process that has an
// entry open keeps reading it after it is removed (its files stay open).
func pruneIndexes(dir string, keep int) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	type entry struct {
		path string
		mod  time.Time
	}
	var es []entry
	for _, e := range ents {
		info, err := e.Info()
		if err != nil || !e.IsDir() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		switch {
		case strings.HasPrefix(e.Name(), "index-"):
			es = append(es, entry{p, info.ModTime()})
		case strings.HasPrefix(e.Name(), "tmp-index-") && time.Since(info.ModTime()) > time.Hour:
			os.RemoveAll(p)
		}
	}
	if len(es) <= keep {
		return
	}
	sort.Slice(es, func(i, j int) bool { return es[i].mod.After(es[j].mod) })
	for _, e := range es[keep:] {
		os.RemoveAll(e.path)
	}
}

// FromCache lists the languages whose index was opened from the cache
// rather than built.
func (ix *Index) FromCache() []string {
	var ls []string
	for _, lang := range ix.base.Langs() {
		if li := ix.langs[lang]; li != nil && li.fromCache {
			ls = append(ls, lang)
		}
	}
	return ls
}
