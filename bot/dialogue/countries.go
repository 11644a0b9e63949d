package dialogue

import (
	_ "embed"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/impbot/impbot/index/spell"
)

// countriesTSV is the country table: every ISO 3166-1 country and territory
// (plus Kosovo) with its alpha-2 and alpha-3 codes, English names and common
// alternatives, French names and demonyms in both languages.
//
//go:embed countries.tsv
var countriesTSV string

// Country is one entry of the country table.
type Country struct {
	Alpha2, Alpha3 string
	// Name and NameFR are the common names used in messages.
	Name, NameFR string
}

// DisplayName returns the country's name in lang.
func (c *Country) DisplayName(lang string) string {
	if lang == "fr" && c.NameFR != "" {
		return c.NameFR
	}
	return c.Name
}

type countryTable struct {
	list  []*Country
	byA2  map[string]*Country
	index map[string][]string // normalized name, demonym or code -> alpha-2 codes
	keys  []string            // index keys of 4+ letters, for typo suggestions
}

// ambiguousNames are names shared by several countries: the user is asked
// which one is meant.
var ambiguousNames = map[string][]string{
	"congo":          {"CG", "CD"},
	"congolese":      {"CG", "CD"},
	"congolais":      {"CG", "CD"},
	"congolaise":     {"CG", "CD"},
	"guinea":         {"GN", "GW", "GQ", "PG"},
	"guinee":         {"GN", "GW", "GQ", "PG"},
	"virgin islands": {"VG", "VI"},
	"iles vierges":   {"VG", "VI"},
	"st martin":      {"MF", "SX"},
}

// preferredNames resolve a name that is technically shared to the country
// almost everyone means by it.
var preferredNames = map[string]string{
	"korea":    "KR",
	"korean":   "KR",
	"coree":    "KR",
	"coreen":   "KR",
	"coreenne": "KR",
	"america":  "US",
	// "Dominican" is also Dominica's demonym, but the Dominican Republic
	// (11 million people, against 70,000) is what it almost always means.
	"dominican":   "DO",
	"dominicain":  "DO",
	"dominicaine": "DO",
}

// wordCodes are codes that are also common English or French words. Typed
// alone they may not be meant as a country ("IN", "NO", "IT"), so the user
// is asked to confirm.
var wordCodes = map[string]bool{
	"in": true, "it": true, "no": true, "is": true, "am": true, "as": true, "at": true, "be": true,
	"by": true, "do": true, "me": true, "my": true, "so": true, "to": true, "la": true, "and": true,
	"can": true, "are": true, "per": true, "nor": true, "lie": true, "arm": true,
}

var (
	tableOnce sync.Once
	table     *countryTable
)

func countriesTable() *countryTable {
	tableOnce.Do(func() { table = buildCountryTable(countriesTSV) })
	return table
}

func buildCountryTable(tsv string) *countryTable {
	t := &countryTable{byA2: map[string]*Country{}, index: map[string][]string{}}
	add := func(key, code string) {
		key = normalize(key)
		key = strings.TrimPrefix(key, "the ")
		if key == "" {
			return
		}
		for _, c := range t.index[key] {
			if c == code {
				return
			}
		}
		t.index[key] = append(t.index[key], code)
	}
	for _, line := range strings.Split(tsv, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		for len(f) < 5 {
			f = append(f, "")
		}
		en := splitList(f[2])
		fr := splitList(f[3])
		c := &Country{Alpha2: f[0], Alpha3: f[1]}
		if len(en) > 0 {
			c.Name = en[0]
		}
		c.NameFR = c.Name
		if len(fr) > 0 {
			c.NameFR = fr[0]
		}
		t.list = append(t.list, c)
		t.byA2[c.Alpha2] = c
		add(c.Alpha2, c.Alpha2)
		add(c.Alpha3, c.Alpha2)
		for _, group := range [][]string{en, fr, splitList(f[4])} {
			for _, n := range group {
				add(n, c.Alpha2)
			}
		}
	}
	for k := range t.index {
		if utf8.RuneCountInString(k) >= 4 {
			t.keys = append(t.keys, k)
		}
	}
	sort.Strings(t.keys)
	return t
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// CountryByCode returns the country with this alpha-2 code (any case).
func CountryByCode(code string) (*Country, bool) {
	c, ok := countriesTable().byA2[strings.ToUpper(strings.TrimSpace(code))]
	return c, ok
}

// Resolution is the outcome of reading a typed country.
type Resolution struct {
	// Codes are the alpha-2 codes read (several for "Irish and British").
	Codes []string
	// Candidates are possible meanings when the text is ambiguous or
	// looks like a typo; the user is asked to choose.
	Candidates []string
	// Typo is true when Candidates are spelling suggestions.
	Typo bool
}

// countryFillers are words around a country in answers such as "I'm a
// citizen of Ireland" or "je suis de nationalité française".
var countryFillers = map[string]bool{
	"i": true, "m": true, "im": true, "am": true, "a": true, "an": true, "the": true, "citizen": true,
	"citizens": true, "citizenship": true, "national": true, "nationality": true, "of": true, "from": true,
	"passport": true, "holder": true, "my": true, "is": true, "we": true, "are": true, "he": true, "she": true,
	"they": true, "s": true, "worker": true, "born": true, "in": true, "it": true, "just": true, "only": true,
	"country": true, "je": true, "suis": true, "j": true, "ai": true, "la": true, "le": true, "les": true,
	"l": true, "de": true, "du": true, "des": true, "d": true, "citoyen": true, "citoyenne": true,
	"citoyennete": true, "nationalite": true, "il": true, "elle": true, "est": true, "un": true, "une": true,
	"passeport": true, "ne": true, "nee": true, "au": true, "aux": true, "en": true, "pays": true, "mon": true,
	"ma": true, "nous": true, "sommes": true, "travailleur": true, "originaire": true, "ressortissant": true,
	"ressortissante": true,
}

// ResolveCountry reads a typed country: a name (English or French), a
// common alternative name, a demonym or an ISO code, possibly inside a short
// sentence, possibly several ("Irish and British").
func ResolveCountry(text string) Resolution {
	t := countriesTable()
	text = strings.ReplaceAll(text, "&", " and ")
	n := normalize(text)
	if n == "" {
		return Resolution{}
	}
	if r, ok := t.lookup(n); ok {
		return r
	}
	if stripped := stripFillers(n); stripped != "" && stripped != n {
		if r, ok := t.lookup(stripped); ok {
			return r
		}
		n = stripped
	}
	if codes, ok := t.lookupMany(text); ok {
		return Resolution{Codes: codes}
	}
	return Resolution{Candidates: t.suggest(n), Typo: true}
}

// lookup resolves one normalized name; ok is false when it is unknown.
func (t *countryTable) lookup(n string) (Resolution, bool) {
	n = strings.TrimPrefix(n, "the ")
	if cands, ok := ambiguousNames[n]; ok {
		return Resolution{Candidates: cands}, true
	}
	if c, ok := preferredNames[n]; ok {
		return Resolution{Codes: []string{c}}, true
	}
	codes := t.index[n]
	switch {
	case len(codes) == 0:
		return Resolution{}, false
	case wordCodes[n]:
		return Resolution{Candidates: codes}, true
	case len(codes) == 1:
		return Resolution{Codes: codes}, true
	default:
		return Resolution{Candidates: codes}, true
	}
}

// lookupMany reads a list of countries separated by commas, slashes, "and"
// or "et"; every part must name exactly one country.
func (t *countryTable) lookupMany(text string) ([]string, bool) {
	seps := func(r rune) bool { return r == ',' || r == ';' || r == '/' || r == '+' }
	var parts []string
	for _, p := range strings.FieldsFunc(text, seps) {
		n := normalize(p)
		for _, q := range splitWords(n, "and", "et", "plus", "also", "aussi") {
			if q = stripFillers(q); q != "" {
				parts = append(parts, q)
			}
		}
	}
	if len(parts) < 2 {
		return nil, false
	}
	var codes []string
	for _, p := range parts {
		r, ok := t.lookup(p)
		if !ok || len(r.Codes) != 1 {
			return nil, false
		}
		if !contains(codes, r.Codes[0]) {
			codes = append(codes, r.Codes[0])
		}
	}
	return codes, true
}

// splitWords splits a normalized string at the given separator words.
func splitWords(n string, seps ...string) []string {
	var out []string
	var cur []string
	for _, w := range strings.Fields(n) {
		if contains(seps, w) {
			if len(cur) > 0 {
				out = append(out, strings.Join(cur, " "))
			}
			cur = nil
			continue
		}
		cur = append(cur, w)
	}
	if len(cur) > 0 {
		out = append(out, strings.Join(cur, " "))
	}
	return out
}

func stripFillers(n string) string {
	var kept []string
	for _, w := range strings.Fields(n) {
		if !countryFillers[w] {
			kept = append(kept, w)
		}
	}
	return strings.Join(kept, " ")
}

// suggest returns up to 3 countries whose names are within a small edit
// distance of n (for typos such as "Irland" or "Germny").
func (t *countryTable) suggest(n string) []string {
	l := utf8.RuneCountInString(n)
	if l < 4 || l > 40 {
		return nil
	}
	limit := 1
	if l >= 7 {
		limit = 2
	}
	best := limit + 1
	var codes []string
	for _, k := range t.keys {
		kl := utf8.RuneCountInString(k)
		if kl-l > limit || l-kl > limit {
			continue
		}
		d := spell.Distance(n, k, best)
		if d > limit || d > best {
			continue
		}
		if d < best {
			best, codes = d, nil
		}
		for _, c := range t.index[k] {
			if !contains(codes, c) {
				codes = append(codes, c)
			}
		}
	}
	if len(codes) > 3 {
		return nil
	}
	return codes
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// foldMap folds accented Latin letters to ASCII.
var foldMap = map[rune]string{
	'à': "a", 'á': "a", 'â': "a", 'ã': "a", 'ä': "a", 'å': "a", 'ā': "a", 'ă': "a", 'ą': "a",
	'æ': "ae", 'ç': "c", 'ć': "c", 'č': "c", 'ď': "d", 'đ': "d",
	'è': "e", 'é': "e", 'ê': "e", 'ë': "e", 'ē': "e", 'ę': "e", 'ě': "e",
	'ì': "i", 'í': "i", 'î': "i", 'ï': "i", 'ī': "i", 'ı': "i",
	'ñ': "n", 'ń': "n", 'ň': "n", 'ł': "l",
	'ò': "o", 'ó': "o", 'ô': "o", 'õ': "o", 'ö': "o", 'ø': "o", 'ō': "o", 'ő': "o", 'œ': "oe",
	'ř': "r", 'ś': "s", 'š': "s", 'ş': "s", 'ș': "s", 'ß': "ss", 'ť': "t", 'ţ': "t", 'ț': "t",
	'ù': "u", 'ú': "u", 'û': "u", 'ü': "u", 'ū': "u", 'ů': "u", 'ű': "u",
	'ý': "y", 'ÿ': "y", 'ź': "z", 'ż': "z", 'ž': "z", 'ğ': "g",
}

// normalize lower-cases s, folds accents, turns punctuation into spaces,
// writes "saint" as "st" and collapses spaces: "Côte d’Ivoire" becomes
// "cote d ivoire", "U.S.A." becomes "u s a".
func normalize(s string) string {
	var b strings.Builder
	space := true
	for _, r := range strings.ToLower(s) {
		if f, ok := foldMap[r]; ok {
			b.WriteString(f)
			space = false
			continue
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
			space = false
			continue
		}
		if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	out := strings.TrimSpace(b.String())
	if strings.Contains(out, "saint") {
		words := strings.Fields(out)
		for i, w := range words {
			switch w {
			case "saint":
				words[i] = "st"
			case "sainte":
				words[i] = "ste"
			}
		}
		out = strings.Join(words, " ")
	}
	return out
}
