package knowledge

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
)

// FactsFile is the name of the facts file at the top of a knowledge folder.
const FactsFile = "facts.yaml"

// Kinds of fact; the kind decides how a value is written in each language.
const (
	FactMoney  = "money"  // Canadian dollars: "$1,000" in English, "1 000 $" in French
	FactNumber = "number" // a plain number: an age, a count, a duration in months
	FactCode   = "code"   // an LMIA exemption code or another identifier, written as is
	FactDate   = "date"   // YYYY-MM-DD: "21 January 2025", "21 janvier 2025"
	FactList   = "list"   // keys of `labels`, written as their labels joined by commas
)

// Fact is one entry of facts.yaml: a fee, a code, an age limit, a date…
// with the official page that states it and when someone last checked it.
// A fact holds either one value or a table of values by key (a country's
// ISO code, for instance), referred to as {{name}} or {{name.KEY}}.
type Fact struct {
	Name     string
	Kind     string
	Value    string            // one value
	Values   map[string]string // a table of values by key (lists joined by ",")
	Labels   map[string]Text   // for lists: the label of each item key
	Source   string
	Reviewed string
	// Since is when the rule the fact states took effect; Until when it
	// stops applying (the end of an IEC season, a temporary measure).
	Since, Until string
	Line         int
	keys         []string // table keys in file order
}

// Text is a short text in several languages.
type Text map[string]string

// In returns the text in lang, or in English.
func (t Text) In(lang string) string {
	if s, ok := t[lang]; ok && s != "" {
		return s
	}
	return t["en"]
}

// Keys returns the keys of a table fact in file order.
func (f *Fact) Keys() []string { return f.keys }

// Facts is a parsed facts.yaml.
type Facts struct {
	File   string
	byName map[string]*Fact
	names  []string

	dupMu sync.Mutex
	dups  map[string][]duplicate // by language, built once
}

// Fact returns the fact with this name, or nil.
func (fs *Facts) Fact(name string) *Fact {
	if fs == nil {
		return nil
	}
	return fs.byName[name]
}

// All returns the facts in file order.
func (fs *Facts) All() []*Fact {
	if fs == nil {
		return nil
	}
	out := make([]*Fact, 0, len(fs.names))
	for _, n := range fs.names {
		out = append(out, fs.byName[n])
	}
	return out
}

var factNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$`)

// ParseFacts parses facts.yaml: a mapping of fact name to its kind, value
// (or values), source and reviewed date.
func ParseFacts(file string, data []byte) (*Facts, Problems) {
	fs := &Facts{File: file, byName: map[string]*Fact{}}
	var probs Problems
	add := func(line int, format string, args ...any) {
		probs = append(probs, Problem{File: file, Line: line, Message: fmt.Sprintf(format, args...)})
	}
	var node yaml.Node
	if err := yaml.Unmarshal(data, &node); err != nil {
		return fs, append(probs, yamlProblem(file, err))
	}
	if len(node.Content) == 0 {
		return fs, nil
	}
	top := node.Content[0]
	if top.Kind != yaml.MappingNode {
		add(top.Line, "expected a mapping of fact name to its value, source and reviewed date")
		return fs, probs
	}
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		name := k.Value
		if !factNameRE.MatchString(name) {
			add(k.Line, "fact name %q must be lowercase words separated by dots, e.g. fee.work_permit", name)
			continue
		}
		if fs.byName[name] != nil {
			add(k.Line, "fact %q defined twice", name)
			continue
		}
		f := &Fact{Name: name, Line: k.Line}
		if v.Kind != yaml.MappingNode {
			add(v.Line, "fact %q: expected kind, value (or values), source and reviewed", name)
			continue
		}
		var valueNode, valuesNode, labelsNode *yaml.Node
		for j := 0; j+1 < len(v.Content); j += 2 {
			fk, fv := v.Content[j], v.Content[j+1]
			switch fk.Value {
			case "kind":
				f.Kind = fv.Value
			case "value":
				valueNode = fv
			case "values":
				valuesNode = fv
			case "labels":
				labelsNode = fv
			case "source":
				f.Source = strings.TrimSpace(fv.Value)
			case "reviewed":
				f.Reviewed = fv.Value
			case "since":
				f.Since = fv.Value
			case "until":
				f.Until = fv.Value
			case "note":
			default:
				add(fk.Line, "fact %q: unknown field %q (kind, value, values, labels, source, reviewed, since, until, note)", name, fk.Value)
			}
		}
		switch f.Kind {
		case FactMoney, FactNumber, FactCode, FactDate, FactList:
		case "":
			add(v.Line, "fact %q: missing kind (money, number, code, date or list)", name)
		default:
			add(v.Line, "fact %q: kind %q must be money, number, code, date or list", name, f.Kind)
		}
		if labelsNode != nil {
			f.Labels = map[string]Text{}
			if labelsNode.Kind != yaml.MappingNode {
				add(labelsNode.Line, "fact %q: labels must map each item to {en: …, fr: …}", name)
			} else {
				for j := 0; j+1 < len(labelsNode.Content); j += 2 {
					lk, lv := labelsNode.Content[j], labelsNode.Content[j+1]
					t := Text{}
					if err := lv.Decode(&t); err != nil || t["en"] == "" {
						add(lv.Line, "fact %q: label of %q must be {en: …, fr: …}", name, lk.Value)
						continue
					}
					f.Labels[lk.Value] = t
				}
			}
		}
		switch {
		case valueNode != nil && valuesNode != nil:
			add(v.Line, "fact %q: give value or values, not both", name)
		case valueNode != nil:
			val, ok := scalarValue(f, valueNode, func(line int, msg string) { add(line, "fact %q: %s", name, msg) })
			if ok {
				f.Value = val
			}
		case valuesNode != nil:
			if valuesNode.Kind != yaml.MappingNode {
				add(valuesNode.Line, "fact %q: values must map keys (e.g. country codes) to values", name)
				break
			}
			f.Values = map[string]string{}
			for j := 0; j+1 < len(valuesNode.Content); j += 2 {
				vk, vv := valuesNode.Content[j], valuesNode.Content[j+1]
				if _, dup := f.Values[vk.Value]; dup {
					add(vk.Line, "fact %q lists %q twice", name, vk.Value)
					continue
				}
				val, ok := scalarValue(f, vv, func(line int, msg string) { add(line, "fact %q, %s: %s", name, vk.Value, msg) })
				if ok {
					f.Values[vk.Value] = val
					f.keys = append(f.keys, vk.Value)
				}
			}
		default:
			add(v.Line, "fact %q has no value", name)
		}
		if f.Source == "" {
			add(v.Line, "fact %q: missing source (the official page that states it)", name)
		} else if err := checkURL(f.Source); err != nil {
			add(v.Line, "fact %q: source %q: %v", name, f.Source, err)
		}
		for _, d := range []struct{ what, val string }{{"reviewed", f.Reviewed}, {"since", f.Since}, {"until", f.Until}} {
			if d.val == "" {
				if d.what == "reviewed" {
					add(v.Line, "fact %q: missing reviewed date (YYYY-MM-DD)", name)
				}
				continue
			}
			if _, err := time.Parse(time.DateOnly, d.val); err != nil {
				add(v.Line, "fact %q: %s %q is not a date of the form YYYY-MM-DD", name, d.what, d.val)
			}
		}
		fs.byName[name] = f
		fs.names = append(fs.names, name)
	}
	return fs, probs
}

// scalarValue reads and checks one value of a fact.
func scalarValue(f *Fact, n *yaml.Node, bad func(line int, msg string)) (string, bool) {
	if f.Kind == FactList {
		var items []string
		if n.Kind != yaml.SequenceNode || n.Decode(&items) != nil {
			bad(n.Line, "a list value must be a list of label keys, e.g. [wh, yp]")
			return "", false
		}
		for _, it := range items {
			if _, ok := f.Labels[it]; !ok {
				bad(n.Line, fmt.Sprintf("%q has no label", it))
				return "", false
			}
		}
		return strings.Join(items, ","), true
	}
	if n.Kind != yaml.ScalarNode || strings.TrimSpace(n.Value) == "" {
		bad(n.Line, "the value must be a single number, code or date")
		return "", false
	}
	s := strings.TrimSpace(n.Value)
	switch f.Kind {
	case FactMoney, FactNumber:
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			bad(n.Line, fmt.Sprintf("%q is not a number (write 1000 or 184.75, without $ or spaces)", s))
			return "", false
		}
	case FactDate:
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			bad(n.Line, fmt.Sprintf("%q is not a date of the form YYYY-MM-DD", s))
			return "", false
		}
	}
	return s, true
}

// Resolve finds the fact and table key a reference names: "fee.work_permit"
// or "iec.age_max.IE". ok is false when there is no such fact or key.
func (fs *Facts) Resolve(ref string) (f *Fact, key string, ok bool) {
	if f := fs.Fact(ref); f != nil && f.Values == nil {
		return f, "", true
	}
	i := strings.LastIndexByte(ref, '.')
	if i < 0 {
		return nil, "", false
	}
	f = fs.Fact(ref[:i])
	if f == nil || f.Values == nil {
		return nil, "", false
	}
	if _, ok := f.Values[ref[i+1:]]; !ok {
		return f, ref[i+1:], false
	}
	return f, ref[i+1:], true
}

// Format writes a reference's value in lang.
func (fs *Facts) Format(ref, lang string) (string, error) {
	f, key, ok := fs.Resolve(ref)
	if !ok {
		if f != nil {
			return "", fmt.Errorf("fact %q has no value for %q", f.Name, key)
		}
		return "", fmt.Errorf("unknown fact %q", ref)
	}
	return f.Format(key, lang), nil
}

// Format writes the fact's value (or its value for key) in lang.
func (f *Fact) Format(key, lang string) string {
	v := f.Value
	if key != "" {
		v = f.Values[key]
	}
	return formatValue(f, v, lang)
}

func formatValue(f *Fact, v, lang string) string {
	switch f.Kind {
	case FactMoney:
		return FormatMoney(v, lang)
	case FactDate:
		return FormatDate(v, lang)
	case FactList:
		var out []string
		for _, it := range strings.Split(v, ",") {
			if it != "" {
				out = append(out, f.Labels[it].In(lang))
			}
		}
		return strings.Join(out, ", ")
	}
	return v
}

// FormatMoney writes an amount in Canadian dollars the way each language
// does: "$1,000" and "$184.75" in English, "1 000 $" and "184,75 $" in French.
func FormatMoney(v, lang string) string {
	x, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return v
	}
	whole := int64(x)
	cents := int64((x-float64(whole))*100 + 0.5)
	sep, dec := ",", "."
	if lang == "fr" {
		sep, dec = " ", ","
	}
	digits := strconv.FormatInt(whole, 10)
	var b strings.Builder
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(d)
	}
	num := b.String()
	if cents > 0 {
		num += fmt.Sprintf("%s%02d", dec, cents)
	}
	if lang == "fr" {
		return num + " $"
	}
	return "$" + num
}

var monthsFR = []string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}

// FormatDate writes a YYYY-MM-DD date as "21 January 2025" or "21 janvier 2025".
func FormatDate(v, lang string) string {
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return v
	}
	if lang == "fr" {
		day := strconv.Itoa(t.Day())
		if t.Day() == 1 {
			day = "1er"
		}
		return fmt.Sprintf("%s %s %d", day, monthsFR[t.Month()-1], t.Year())
	}
	return t.Format("2 January 2006")
}

// refRE matches a reference such as {{fee.work_permit}} or {{ iec.age_max.IE }}.
var refRE = regexp.MustCompile(`\{\{\s*([^{}]*?)\s*\}\}`)

// expandLine substitutes the references in one line, in lang. Each bad
// reference is reported through bad with its message.
func (fs *Facts) expandLine(line, lang string, used map[string]bool, bad func(msg string)) string {
	if !strings.Contains(line, "{{") {
		return line
	}
	return refRE.ReplaceAllStringFunc(line, func(m string) string {
		ref := refRE.FindStringSubmatch(m)[1]
		v, err := fs.Format(ref, lang)
		if err != nil {
			bad(fmt.Sprintf("%v in %s (facts are defined in %s)", err, m, FactsFile))
			return m
		}
		if used != nil {
			used[ref] = true
		}
		return v
	})
}

// langKeyRE finds the language keys of a YAML line ("en:", "fr:").
var langKeyRE = regexp.MustCompile(`(?:^|[\s{,-])([a-z]{2}):\s`)

// ExpandYAML substitutes references in a YAML file that holds texts in
// several languages (eligibility.yaml): a reference is written in the
// language of the nearest "en:"/"fr:" key before it on its line, English
// otherwise. Problems carry the file's line numbers.
func (fs *Facts) ExpandYAML(file string, data []byte) ([]byte, Problems) {
	if !strings.Contains(string(data), "{{") {
		return data, nil
	}
	var probs Problems
	lines := strings.Split(string(data), "\n")
	for i, line := range lines {
		if !strings.Contains(line, "{{") || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		var out strings.Builder
		rest := line
		for {
			loc := refRE.FindStringIndex(rest)
			if loc == nil {
				out.WriteString(rest)
				break
			}
			lang := "en"
			before := out.String() + rest[:loc[0]]
			if ks := langKeyRE.FindAllStringSubmatch(before, -1); len(ks) > 0 {
				lang = ks[len(ks)-1][1]
			}
			out.WriteString(rest[:loc[0]])
			out.WriteString(fs.expandLine(rest[loc[0]:loc[1]], lang, nil, func(msg string) {
				probs = append(probs, Problem{File: file, Line: i + 1, Message: msg})
			}))
			rest = rest[loc[1]:]
		}
		lines[i] = out.String()
	}
	return []byte(strings.Join(lines, "\n")), probs
}

// duplicate is a hand-written value that a fact already holds. hint is a
// string the line must contain for the pattern to be worth trying.
type duplicate struct {
	re   *regexp.Regexp
	fact string
	hint string
}

// duplicates returns, for lang, patterns of fees and codes written by hand
// (compiled once per language).
func (fs *Facts) duplicates(lang string) []duplicate {
	if fs == nil {
		return nil
	}
	fs.dupMu.Lock()
	defer fs.dupMu.Unlock()
	if d, ok := fs.dups[lang]; ok {
		return d
	}
	if fs.dups == nil {
		fs.dups = map[string][]duplicate{}
	}
	d := fs.buildDuplicates()
	fs.dups[lang] = d
	return d
}

func (fs *Facts) buildDuplicates() []duplicate {
	var out []duplicate
	seen := map[string]bool{}
	for _, f := range fs.All() {
		vals := []string{f.Value}
		if f.Values != nil {
			vals = nil
			for _, k := range f.keys {
				vals = append(vals, f.Values[k])
			}
		}
		for _, v := range vals {
			if v == "" || seen[f.Kind+v] {
				continue
			}
			var pat, hint string
			switch f.Kind {
			case FactMoney:
				seen[f.Kind+v] = true
				en := regexp.QuoteMeta(strings.TrimPrefix(FormatMoney(v, "en"), "$"))
				fr := strings.ReplaceAll(regexp.QuoteMeta(strings.TrimSuffix(FormatMoney(v, "fr"), " $")), " ", `[\s\x{a0}\x{202f}]?`)
				plain := regexp.QuoteMeta(v)
				// "$1,000", "CAN$155", "1 000 $", "155$", "155 dollars"
				hint = "$"
				pat = `(?:\$\s?(?:` + en + `|` + plain + `)(?:[^\d,.]|[,.](?:\D|$)|$)|(?:^|[^\d,.\s]|\s)(?:` + fr + `|` + plain + `)\s?(?:\$|dollars?\b))`
			case FactCode:
				seen[f.Kind+v] = true
				hint = v
				pat = `\b` + regexp.QuoteMeta(v) + `\b`
			default:
				continue
			}
			out = append(out, duplicate{re: regexp.MustCompile(pat), fact: f.Name, hint: hint})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].fact < out[j].fact })
	return out
}

// checkDuplicates reports fees and codes written by hand in a line of prose.
func (fs *Facts) checkDuplicates(dups []duplicate, line string) []string {
	if len(dups) == 0 {
		return nil
	}
	if strings.Contains(line, "{{") {
		line = refRE.ReplaceAllString(line, "")
	}
	var msgs []string
	for _, d := range dups {
		if !strings.Contains(line, d.hint) && (d.hint != "$" || !strings.Contains(strings.ToLower(line), "dollar")) {
			continue
		}
		if m := d.re.FindString(line); m != "" {
			msgs = append(msgs, fmt.Sprintf("%q is written by hand: write {{%s}} so that %s stays the one place to change it", strings.Trim(m, " ,.;:()*_"), d.fact, FactsFile))
		}
	}
	return msgs
}

// topKey is the key a front-matter line starts ("summary: ..." → summary),
// what `^([A-Za-z_]+):` matches, scanned by hand (it runs on every line).
func topKey(line string) (string, bool) {
	i := 0
	for i < len(line) && (line[i] >= 'a' && line[i] <= 'z' || line[i] >= 'A' && line[i] <= 'Z' || line[i] == '_') {
		i++
	}
	if i == 0 || i == len(line) || line[i] != ':' {
		return "", false
	}
	return line[:i], true
}

// proseKeys are the front-matter fields whose text is checked for fees and
// codes written by hand (questions and keywords are how users write).
var proseKeys = map[string]bool{"title": true, "summary": true}

// expandArticle substitutes the fact references of an article file in its
// language, before it is parsed, and reports unknown references and fees or
// codes written by hand in its prose with their line numbers. It returns
// the references used, sorted.
func (fs *Facts) expandArticle(file, lang string, data []byte) ([]byte, []string, Problems) {
	text := string(data)
	if !strings.Contains(text, "{{") && fs == nil {
		return data, nil, nil
	}
	var probs Problems
	used := map[string]bool{}
	dups := fs.duplicates(lang)
	lines := strings.Split(text, "\n")
	front, key := 0, "" // front: 0 before, 1 inside, 2 after the front matter
	for i, line := range lines {
		trimmed := strings.TrimRight(line, " \t\r")
		switch {
		case front == 0 && trimmed == "---":
			front = 1
			continue
		case front == 1 && trimmed == "---":
			front = 2
			continue
		case front == 1:
			if k, ok := topKey(line); ok {
				key = k
			}
		}
		prose := front == 2 || (front == 1 && proseKeys[key])
		if prose {
			for _, msg := range fs.checkDuplicates(dups, line) {
				probs = append(probs, Problem{File: file, Line: i + 1, Message: msg})
			}
		}
		lines[i] = fs.expandLine(line, lang, used, func(msg string) {
			probs = append(probs, Problem{File: file, Line: i + 1, Message: msg})
		})
	}
	var refs []string
	for r := range used {
		refs = append(refs, r)
	}
	sort.Strings(refs)
	if len(used) == 0 && len(probs) == 0 {
		return data, nil, nil
	}
	return []byte(strings.Join(lines, "\n")), refs, probs
}

// checkTwins compares each translated article with its English original:
// it must use the same facts and have been reviewed no earlier.
func (b *Base) checkTwins() Problems {
	var probs Problems
	for _, lang := range b.Langs() {
		if lang == "en" {
			continue
		}
		for _, a := range b.Articles[lang] {
			en := b.byID["en"][a.ID]
			if en == nil {
				continue
			}
			if a.Reviewed != "" && en.Reviewed != "" && a.Reviewed < en.Reviewed {
				probs = append(probs, Problem{File: a.File, Line: a.Line("reviewed"), Message: fmt.Sprintf(
					"reviewed %s is earlier than the English article (%s, %s): review the translation too", a.Reviewed, en.Reviewed, en.File)})
			}
			if missing, extra := diffSets(en.Facts, a.Facts); len(missing)+len(extra) > 0 {
				var parts []string
				if len(missing) > 0 {
					parts = append(parts, "missing {{"+strings.Join(missing, "}}, {{")+"}}")
				}
				if len(extra) > 0 {
					parts = append(parts, "not in English {{"+strings.Join(extra, "}}, {{")+"}}")
				}
				probs = append(probs, Problem{File: a.File, Line: 1, Message: fmt.Sprintf(
					"the facts differ from the English article %s: %s", en.File, strings.Join(parts, "; "))})
			}
		}
	}
	return probs
}

// diffSets returns the items of want missing from got and those of got not in want.
func diffSets(want, got []string) (missing, extra []string) {
	in := func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	}
	for _, w := range want {
		if !in(got, w) {
			missing = append(missing, w)
		}
	}
	for _, g := range got {
		if !in(want, g) {
			extra = append(extra, g)
		}
	}
	return missing, extra
}
