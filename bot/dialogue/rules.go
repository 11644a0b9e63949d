package dialogue

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/impbot/impbot/knowledge"
)

// File is the name of the rules file in a knowledge folder.
const File = "eligibility.yaml"

// Fact types.
const (
	TypeChoice  = "choice"
	TypeNumber  = "number"
	TypeCountry = "country"
)

// Rule kinds: a likely rule counts as "something fits"; a possible rule is
// shown but does not count; a note is shown (fallbacks, companions).
const (
	KindLikely   = "likely"
	KindPossible = "possible"
	KindNote     = "note"
)

// Text is a message in several languages.
type Text map[string]string

// In returns the text in lang, or in English.
func (t Text) In(lang string) string {
	if s, ok := t[lang]; ok && s != "" {
		return s
	}
	return t["en"]
}

// Option is one answer of a choice question.
type Option struct {
	Value   string
	Label   Text
	Aliases []string
	Line    int
}

// Variant replaces a question's text when its condition holds.
type Variant struct {
	When *Cond
	Text Text
}

// Fact is one question of the dialogue.
type Fact struct {
	Name     string
	Type     string
	Question Text
	Variants []Variant
	Options  []Option
	Min, Max int
	// Label names the fact in summaries and explanations ("Job offer").
	Label Text
	// Help explains the question in other words, with examples; it is
	// shown after two answers the dialogue could not read.
	Help Text
	// Article is the knowledge article that explains the concept (a
	// button under the help).
	Article string
	// NearMiss: a rule that fails on this fact alone is explained as a
	// near miss ("IEC: Ireland's limit is 35, you are 36").
	NearMiss bool
	Line     int
}

// Unknown is the value of a fact answered "I don't know" (or skipped):
// conditions on it stay undecided, and the fact is not asked again.
const Unknown = "unknown"

// acceptsUnknown reports whether "I don't know" is a valid answer.
func (f *Fact) acceptsUnknown() bool {
	if f.Type != TypeChoice {
		return true
	}
	return f.hasValue(Unknown)
}

// name returns the fact's label in lang (its name when it has none).
func (f *Fact) name(lang string) string {
	if s := f.Label.In(lang); s != "" {
		return s
	}
	return f.Name
}

// valueLabel returns how an answer reads in lang.
func (f *Fact) valueLabel(lang, v string) string {
	switch {
	case v == Unknown:
		return msg(lang, "unknown_value")
	case f.Type == TypeCountry:
		var names []string
		for _, code := range strings.Split(v, ",") {
			if c, ok := CountryByCode(code); ok {
				names = append(names, c.DisplayName(lang))
			} else {
				names = append(names, code)
			}
		}
		return strings.Join(names, ", ")
	case f.Type == TypeChoice:
		for _, o := range f.Options {
			if o.Value == v {
				return o.Label.In(lang)
			}
		}
	}
	return v
}

// Values returns the option values of a choice fact.
func (f *Fact) Values() []string {
	vs := make([]string, len(f.Options))
	for i, o := range f.Options {
		vs[i] = o.Value
	}
	return vs
}

func (f *Fact) hasValue(v string) bool {
	for _, o := range f.Options {
		if o.Value == v {
			return true
		}
	}
	return false
}

// Group is a named list of countries, with an optional maximum age per
// country.
type Group struct {
	Name      string
	Label     Text           // how explanations name the group ("an IEC partner country")
	Countries map[string]int // alpha-2 code -> maximum age (0: none, or not confirmed)
	MinAge    int
	HasAges   bool
	// Unconfirmed holds the countries of an age group written without a
	// maximum age (`XX: ~`): members whose limit is not confirmed. They are
	// judged against UnconfirmedMax (the highest limit of the program), and
	// a rule that holds only thanks to it is shown as possible, with
	// UnconfirmedNote, never as likely.
	Unconfirmed     map[string]bool
	UnconfirmedMax  int
	UnconfirmedNote Text
	Line            int
}

// limitFor returns the age limit that applies to the citizenships (alpha-2
// codes) in the group: the highest confirmed one, and the program's highest
// limit when a citizenship's own limit is not confirmed. ok is false when
// no citizenship is in the group.
func (g *Group) limitFor(codes []string) (confirmed, unconfirmed int, ok bool) {
	confirmed = -1
	for _, code := range codes {
		max, in := g.Countries[code]
		if !in {
			continue
		}
		ok = true
		if g.Unconfirmed[code] {
			unconfirmed = g.UnconfirmedMax
		} else if max > confirmed {
			confirmed = max
		}
	}
	return confirmed, unconfirmed, ok
}

// Rule suggests an outcome when its condition holds.
type Rule struct {
	Outcome    string
	Kind       string
	Tags       []string
	When       *Cond
	Why        Text
	Conditions Text
	Line       int
	idx        int
}

// Exit ends the dialogue early with a message.
type Exit struct {
	When *Cond
	Text Text
	Line int
}

// Rules is a parsed, validated eligibility.yaml.
type Rules struct {
	File   string
	Facts  []*Fact
	Groups map[string]*Group
	Rules  []*Rule
	Exits  []*Exit
	Texts  map[string]Text
	// Agreements hold each trade agreement's coverage, with its source.
	Agreements []*Agreement

	facts  map[string]*Fact
	order  []int                        // rule indexes in evaluation order (dependencies first)
	titles map[string]map[string]string // outcome -> lang -> article title
}

// Fact returns the fact named name, or nil.
func (r *Rules) Fact(name string) *Fact { return r.facts[name] }

// Title returns the article title of an outcome in lang (the ID when the
// knowledge has no such article).
func (r *Rules) Title(lang, id string) string {
	if t := r.titles[id][lang]; t != "" {
		return t
	}
	if t := r.titles[id]["en"]; t != "" {
		return t
	}
	return id
}

// Outcomes lists the outcome IDs the rules can produce, in file order.
func (r *Rules) Outcomes() []string {
	var out []string
	for _, ru := range r.Rules {
		if !contains(out, ru.Outcome) {
			out = append(out, ru.Outcome)
		}
	}
	return out
}

func (r *Rules) countryFact() *Fact {
	for _, f := range r.Facts {
		if f.Type == TypeCountry {
			return f
		}
	}
	return nil
}

// text returns one of the dialogue's own messages, overridden by the rules
// file's texts when present.
func (r *Rules) text(lang, key string) string {
	if t, ok := r.Texts[key]; ok {
		if s := t.In(lang); s != "" {
			return s
		}
	}
	return msg(lang, key)
}

// Cond is a condition over the facts (and over other rules, with fits).
type Cond struct {
	Line   int
	Op     string // is, in, range, in_group, within_age_of, fits, all, any, not
	Fact   string
	Values []string
	Min    *float64
	Max    *float64
	Group  string
	Fits   []string
	Kids   []*Cond
}

// parser collects problems with their lines while reading the YAML tree.
type parser struct {
	file  string
	probs knowledge.Problems
}

func (p *parser) add(line int, format string, args ...any) {
	if line <= 0 {
		line = 1
	}
	p.probs = append(p.probs, knowledge.Problem{File: p.file, Line: line, Message: fmt.Sprintf(format, args...)})
}

var yamlLineRE = regexp.MustCompile(`line (\d+)`)

// mapping returns the key/value pairs of a mapping node, reporting
// duplicate and unexpected keys.
func (p *parser) mapping(n *yaml.Node, what string, allowed ...string) map[string]*yaml.Node {
	if n.Kind != yaml.MappingNode {
		p.add(n.Line, "%s must be a mapping (key: value)", what)
		return nil
	}
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if len(allowed) > 0 && !contains(allowed, k.Value) {
			p.add(k.Line, "unknown key %q in %s (expected one of: %s)", k.Value, what, strings.Join(allowed, ", "))
			continue
		}
		if _, dup := out[k.Value]; dup {
			p.add(k.Line, "duplicate key %q in %s", k.Value, what)
			continue
		}
		out[k.Value] = v
	}
	return out
}

func (p *parser) scalar(n *yaml.Node, what string) (string, bool) {
	if n == nil {
		return "", false
	}
	if n.Kind != yaml.ScalarNode {
		p.add(n.Line, "%s must be a single value", what)
		return "", false
	}
	return strings.TrimSpace(n.Value), true
}

func (p *parser) list(n *yaml.Node, what string) []*yaml.Node {
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.add(n.Line, "%s must be a list", what)
		return nil
	}
	return n.Content
}

func (p *parser) strings(n *yaml.Node, what string) []string {
	var out []string
	for _, item := range p.list(n, what) {
		if s, ok := p.scalar(item, what+" item"); ok {
			out = append(out, s)
		}
	}
	return out
}

func (p *parser) integer(n *yaml.Node, what string) (int, bool) {
	s, ok := p.scalar(n, what)
	if !ok {
		return 0, false
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		p.add(n.Line, "%s must be a whole number, not %q", what, s)
		return 0, false
	}
	return v, true
}

// text reads {en: ..., fr: ...}; English is required.
func (p *parser) text(n *yaml.Node, what string) Text {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		return Text{"en": strings.TrimSpace(n.Value)}
	}
	m := p.mapping(n, what)
	t := Text{}
	for lang, v := range m {
		if len(lang) != 2 {
			p.add(v.Line, "%q in %s is not a two-letter language code", lang, what)
			continue
		}
		if s, ok := p.scalar(v, what); ok {
			t[lang] = s
		}
	}
	if t["en"] == "" {
		p.add(n.Line, "%s has no English (en) text", what)
	}
	return t
}

// Parse reads and validates a rules file. base, when not nil, is the
// knowledge the outcomes must exist in (it also gives their titles). The
// Rules are usable only when there are no problems.
func Parse(file string, data []byte, base *knowledge.Base) (*Rules, knowledge.Problems) {
	p := &parser{file: file}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line := 1
		if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
		}
		p.add(line, "%s", strings.TrimPrefix(err.Error(), "yaml: "))
		return nil, p.probs
	}
	if len(doc.Content) == 0 {
		p.add(1, "empty rules file")
		return nil, p.probs
	}
	r := &Rules{File: file, Groups: map[string]*Group{}, Texts: map[string]Text{}, facts: map[string]*Fact{}}
	top := p.mapping(doc.Content[0], "the rules file", "version", "facts", "groups", "rules", "exits", "texts", "agreements")
	if top == nil {
		return nil, p.probs
	}
	if v, ok := top["version"]; ok {
		if n, ok := p.integer(v, "version"); ok && n != 1 {
			p.add(v.Line, "unsupported version %d (this program reads version 1)", n)
		}
	}
	if top["facts"] == nil {
		p.add(doc.Content[0].Line, "no facts: the dialogue needs at least one question")
	}
	for _, n := range p.list(top["facts"], "facts") {
		if f := p.fact(n); f != nil {
			if r.facts[f.Name] != nil {
				p.add(f.Line, "duplicate fact %q", f.Name)
				continue
			}
			r.facts[f.Name] = f
			r.Facts = append(r.Facts, f)
		}
	}
	if g := top["groups"]; g != nil {
		for name, n := range p.mapping(g, "groups") {
			r.Groups[name] = p.group(name, n)
		}
	}
	if top["rules"] == nil {
		p.add(doc.Content[0].Line, "no rules: the dialogue needs at least one rule")
	}
	for i, n := range p.list(top["rules"], "rules") {
		if ru := p.rule(n); ru != nil {
			ru.idx = i
			r.Rules = append(r.Rules, ru)
		}
	}
	for _, n := range p.list(top["exits"], "exits") {
		m := p.mapping(n, "an exit", "when", "text")
		if m == nil {
			continue
		}
		e := &Exit{Line: n.Line, When: p.cond(m["when"]), Text: p.text(m["text"], "the exit text")}
		if m["when"] == nil {
			p.add(n.Line, "exit without a when condition")
		}
		r.Exits = append(r.Exits, e)
	}
	if t := top["texts"]; t != nil {
		for key, n := range p.mapping(t, "texts") {
			if _, ok := messages["en"][key]; !ok {
				p.add(n.Line, "unknown text %q", key)
				continue
			}
			r.Texts[key] = p.text(n, "text "+key)
		}
	}
	for _, n := range p.list(top["agreements"], "agreements") {
		if a := p.agreement(n); a != nil {
			r.Agreements = append(r.Agreements, a)
		}
	}
	for i := range r.Rules {
		r.Rules[i].idx = i
	}
	p.validate(r, base)
	p.validateAgreements(r, base)
	if len(p.probs) > 0 {
		sort.SliceStable(p.probs, func(i, j int) bool { return p.probs[i].Line < p.probs[j].Line })
		return nil, p.probs
	}
	r.titles = map[string]map[string]string{}
	ids := r.Outcomes()
	for _, f := range r.Facts {
		if f.Article != "" && !contains(ids, f.Article) {
			ids = append(ids, f.Article)
		}
	}
	for _, id := range ids {
		r.titles[id] = map[string]string{}
		if base == nil {
			continue
		}
		for _, lang := range base.Langs() {
			if a := base.Article(lang, id); a != nil {
				r.titles[id][lang] = a.Title
			}
		}
	}
	return r, nil
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

func (p *parser) fact(n *yaml.Node) *Fact {
	m := p.mapping(n, "a fact", "name", "type", "question", "variants", "options", "min", "max", "label", "help", "article", "near_miss")
	if m == nil {
		return nil
	}
	f := &Fact{Line: n.Line}
	f.Name, _ = p.scalar(m["name"], "name")
	if !nameRE.MatchString(f.Name) {
		p.add(n.Line, "fact name %q must be lower-case letters, digits and _", f.Name)
		return nil
	}
	f.Type, _ = p.scalar(m["type"], "type")
	switch f.Type {
	case TypeChoice, TypeNumber, TypeCountry:
	default:
		line := n.Line
		if m["type"] != nil {
			line = m["type"].Line
		}
		p.add(line, "fact %q: type must be choice, number or country, not %q", f.Name, f.Type)
	}
	if m["question"] == nil {
		p.add(n.Line, "fact %q has no question", f.Name)
	}
	f.Question = p.text(m["question"], "the question of "+f.Name)
	f.Label = p.text(m["label"], "the label of "+f.Name)
	f.Help = p.text(m["help"], "the help of "+f.Name)
	f.Article, _ = p.scalar(m["article"], "article")
	if v, ok := p.scalar(m["near_miss"], "near_miss"); ok {
		f.NearMiss = v == "true" || v == "yes"
	}
	for _, vn := range p.list(m["variants"], "variants") {
		vm := p.mapping(vn, "a variant")
		if vm == nil {
			continue
		}
		v := Variant{Text: Text{}}
		for k, x := range vm {
			if k == "when" {
				v.When = p.cond(x)
				continue
			}
			if len(k) != 2 {
				p.add(x.Line, "unknown key %q in a variant (expected when and language codes)", k)
				continue
			}
			v.Text[k], _ = p.scalar(x, "variant text")
		}
		if v.When == nil {
			p.add(vn.Line, "variant without a when condition")
		}
		if v.Text["en"] == "" {
			p.add(vn.Line, "variant has no English (en) text")
		}
		f.Variants = append(f.Variants, v)
	}
	if o := m["options"]; o != nil {
		if f.Type != TypeChoice {
			p.add(o.Line, "fact %q: only choice facts have options", f.Name)
		} else if o.Kind == yaml.ScalarNode && o.Value == "yes_no" {
			f.Options = yesNoOptions(o.Line)
		} else {
			seen := map[string]bool{}
			for _, on := range p.list(o, "options") {
				om := p.mapping(on, "an option", "value", "label", "aliases")
				if om == nil {
					continue
				}
				opt := Option{Line: on.Line}
				opt.Value, _ = p.scalar(om["value"], "value")
				if opt.Value == "" {
					p.add(on.Line, "option without a value")
					continue
				}
				if seen[opt.Value] {
					p.add(on.Line, "duplicate option value %q", opt.Value)
					continue
				}
				seen[opt.Value] = true
				opt.Label = p.text(om["label"], "the label of "+opt.Value)
				if opt.Label == nil {
					opt.Label = Text{"en": opt.Value}
				}
				opt.Aliases = p.strings(om["aliases"], "aliases")
				f.Options = append(f.Options, opt)
			}
		}
	}
	if f.Type == TypeChoice && len(f.Options) < 2 {
		p.add(n.Line, "choice fact %q needs at least two options", f.Name)
	}
	f.Min, f.Max = 0, 150
	if v, ok := m["min"]; ok {
		f.Min, _ = p.integer(v, "min")
	}
	if v, ok := m["max"]; ok {
		f.Max, _ = p.integer(v, "max")
	}
	if (m["min"] != nil || m["max"] != nil) && f.Type != TypeNumber {
		p.add(n.Line, "fact %q: only number facts have min and max", f.Name)
	}
	if f.Min > f.Max {
		p.add(n.Line, "fact %q: min %d is above max %d", f.Name, f.Min, f.Max)
	}
	return f
}

// yesNoOptions are the options of `options: yes_no`: yes, no, and "not
// sure" (the fact stays unknown and the rules go on without it).
func yesNoOptions(line int) []Option {
	return []Option{
		{Value: "yes", Label: Text{"en": "Yes", "fr": "Oui"}, Line: line},
		{Value: "no", Label: Text{"en": "No", "fr": "Non"}, Line: line},
		{Value: Unknown, Label: Text{"en": "Not sure", "fr": "Je ne sais pas"}, Line: line},
	}
}

func (p *parser) group(name string, n *yaml.Node) *Group {
	g := &Group{Name: name, Countries: map[string]int{}, Line: n.Line}
	m := p.mapping(n, "group "+name, "countries", "min_age", "label", "unconfirmed_max_age", "unconfirmed_note")
	if m == nil {
		return g
	}
	g.Label = p.text(m["label"], "the label of group "+name)
	if v, ok := m["min_age"]; ok {
		g.MinAge, _ = p.integer(v, "min_age")
	}
	if v, ok := m["unconfirmed_max_age"]; ok {
		g.UnconfirmedMax, _ = p.integer(v, "unconfirmed_max_age")
	}
	if v, ok := m["unconfirmed_note"]; ok {
		g.UnconfirmedNote = p.text(v, "the unconfirmed_note of group "+name)
	}
	c := m["countries"]
	if c == nil {
		p.add(n.Line, "group %q has no countries", name)
		return g
	}
	check := func(code string, line int) bool {
		if _, ok := CountryByCode(code); !ok || code != strings.ToUpper(code) {
			p.add(line, "group %q: %q is not an ISO 3166-1 alpha-2 country code", name, code)
			return false
		}
		if _, dup := g.Countries[code]; dup {
			p.add(line, "group %q lists %s twice", name, code)
			return false
		}
		return true
	}
	switch c.Kind {
	case yaml.SequenceNode:
		for _, item := range c.Content {
			if code, ok := p.scalar(item, "a country code"); ok && check(code, item.Line) {
				g.Countries[code] = 0
			}
		}
	case yaml.MappingNode:
		g.HasAges = true
		for i := 0; i+1 < len(c.Content); i += 2 {
			k, v := c.Content[i], c.Content[i+1]
			if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
				// A member whose limit is not confirmed (`XX: ~`).
				if check(k.Value, k.Line) {
					g.Countries[k.Value] = 0
					if g.Unconfirmed == nil {
						g.Unconfirmed = map[string]bool{}
					}
					g.Unconfirmed[k.Value] = true
				}
				continue
			}
			age, ok := p.integer(v, "the maximum age of "+k.Value)
			if !ok {
				continue
			}
			if age < 1 || age > 150 {
				p.add(v.Line, "group %q: maximum age %d of %s is not plausible", name, age, k.Value)
				continue
			}
			if check(k.Value, k.Line) {
				g.Countries[k.Value] = age
			}
		}
	default:
		p.add(c.Line, "group %q: countries must be a list of codes, or a map of code to maximum age", name)
	}
	switch {
	case len(g.Unconfirmed) > 0 && (g.UnconfirmedMax < 1 || g.UnconfirmedMax > 150):
		p.add(n.Line, "group %q lists countries without a maximum age: give unconfirmed_max_age (the highest limit they may have)", name)
	case len(g.Unconfirmed) > 0 && g.UnconfirmedNote.In("en") == "":
		p.add(n.Line, "group %q lists countries without a maximum age: give unconfirmed_note (what to check, with the official page)", name)
	case len(g.Unconfirmed) == 0 && g.UnconfirmedMax != 0:
		p.add(n.Line, "group %q: unconfirmed_max_age without any country written as CODE: ~", name)
	}
	return g
}

func (p *parser) rule(n *yaml.Node) *Rule {
	m := p.mapping(n, "a rule", "outcome", "kind", "tags", "when", "why", "conditions")
	if m == nil {
		return nil
	}
	ru := &Rule{Line: n.Line, Kind: KindLikely}
	ru.Outcome, _ = p.scalar(m["outcome"], "outcome")
	if ru.Outcome == "" {
		p.add(n.Line, "rule without an outcome")
	}
	if k, ok := m["kind"]; ok {
		ru.Kind, _ = p.scalar(k, "kind")
		if ru.Kind != KindLikely && ru.Kind != KindPossible && ru.Kind != KindNote {
			p.add(k.Line, "kind must be likely, possible or note, not %q", ru.Kind)
		}
	}
	ru.Tags = p.strings(m["tags"], "tags")
	if m["when"] == nil {
		p.add(n.Line, "rule for %q has no when condition", ru.Outcome)
	}
	ru.When = p.cond(m["when"])
	if m["why"] == nil {
		p.add(n.Line, "rule for %q has no why text", ru.Outcome)
	}
	ru.Why = p.text(m["why"], "why")
	ru.Conditions = p.text(m["conditions"], "conditions")
	return ru
}

// cond reads a condition node.
func (p *parser) cond(n *yaml.Node) *Cond {
	if n == nil {
		return nil
	}
	m := p.mapping(n, "a condition", "fact", "is", "in", "min", "max", "in_group", "within_age_of", "fits", "all", "any", "not")
	if m == nil {
		return nil
	}
	c := &Cond{Line: n.Line}
	ops := 0
	for _, k := range []string{"all", "any", "not", "fits"} {
		if m[k] != nil {
			ops++
			c.Op = k
		}
	}
	if ops > 1 || (ops == 1 && m["fact"] != nil) {
		p.add(n.Line, "a condition must have exactly one of fact, all, any, not, fits: split it with all: [...]")
		return nil
	}
	switch c.Op {
	case "all", "any":
		for _, k := range p.list(m[c.Op], c.Op) {
			if kid := p.cond(k); kid != nil {
				c.Kids = append(c.Kids, kid)
			}
		}
		if len(c.Kids) == 0 {
			p.add(n.Line, "%s needs at least one condition", c.Op)
		}
		return c
	case "not":
		if kid := p.cond(m["not"]); kid != nil {
			c.Kids = []*Cond{kid}
		}
		return c
	case "fits":
		c.Fits = p.strings(m["fits"], "fits")
		if len(c.Fits) == 0 {
			p.add(n.Line, "fits needs at least one outcome ID, #tag or *")
		}
		return c
	}
	if m["fact"] == nil {
		p.add(n.Line, "a condition needs fact (or all, any, not, fits)")
		return nil
	}
	c.Fact, _ = p.scalar(m["fact"], "fact")
	tests := 0
	if v := m["is"]; v != nil {
		c.Op = "in"
		s, _ := p.scalar(v, "is")
		c.Values = []string{s}
		tests++
	}
	if v := m["in"]; v != nil {
		c.Op = "in"
		c.Values = p.strings(v, "in")
		if len(c.Values) == 0 {
			p.add(v.Line, "in needs at least one value")
		}
		tests++
	}
	for _, k := range []string{"min", "max"} {
		if v := m[k]; v != nil {
			s, _ := p.scalar(v, k)
			x, err := strconv.ParseFloat(s, 64)
			if err != nil {
				p.add(v.Line, "%s must be a number, not %q", k, s)
				continue
			}
			if k == "min" {
				c.Min = &x
			} else {
				c.Max = &x
			}
		}
	}
	if c.Min != nil || c.Max != nil {
		c.Op = "range"
		tests++
	}
	if v := m["in_group"]; v != nil {
		c.Op = "in_group"
		c.Group, _ = p.scalar(v, "in_group")
		tests++
	}
	if v := m["within_age_of"]; v != nil {
		c.Op = "within_age_of"
		c.Group, _ = p.scalar(v, "within_age_of")
		tests++
	}
	if tests != 1 {
		p.add(n.Line, "a fact condition needs exactly one test: is, in, min/max, in_group or within_age_of")
		return nil
	}
	return c
}

// validate checks references between facts, groups, rules and the
// knowledge.
func (p *parser) validate(r *Rules, base *knowledge.Base) {
	used := map[string]bool{}
	var walk func(c *Cond, where string)
	walk = func(c *Cond, where string) {
		if c == nil {
			return
		}
		for _, k := range c.Kids {
			walk(k, where)
		}
		switch c.Op {
		case "fits":
			for _, f := range c.Fits {
				switch {
				case f == "*":
				case strings.HasPrefix(f, "#"):
					if !r.hasTag(f[1:]) {
						p.add(c.Line, "fits %q: no rule has the tag %q", f, f[1:])
					}
				case !contains(r.Outcomes(), f):
					p.add(c.Line, "fits %q: no rule has this outcome", f)
				}
			}
			return
		case "all", "any", "not", "":
			return
		}
		f := r.facts[c.Fact]
		if f == nil {
			p.add(c.Line, "unknown fact %q", c.Fact)
			return
		}
		if where == "rule" {
			used[c.Fact] = true
		}
		switch c.Op {
		case "in":
			for _, v := range c.Values {
				switch f.Type {
				case TypeChoice:
					if !f.hasValue(v) {
						p.add(c.Line, "unknown value %q for fact %q (values: %s)", v, f.Name, strings.Join(f.Values(), ", "))
					}
				case TypeCountry:
					if _, ok := CountryByCode(v); !ok || v != strings.ToUpper(v) {
						p.add(c.Line, "%q is not an ISO 3166-1 alpha-2 code (fact %q is a country)", v, f.Name)
					}
				case TypeNumber:
					if _, err := strconv.ParseFloat(v, 64); err != nil {
						p.add(c.Line, "%q is not a number (fact %q is a number)", v, f.Name)
					}
				}
			}
		case "range":
			if f.Type != TypeNumber {
				p.add(c.Line, "min/max need a number fact; %q is a %s", f.Name, f.Type)
			}
		case "in_group":
			if f.Type != TypeCountry {
				p.add(c.Line, "in_group needs a country fact; %q is a %s", f.Name, f.Type)
			}
			if r.Groups[c.Group] == nil {
				p.add(c.Line, "unknown group %q", c.Group)
			}
		case "within_age_of":
			if f.Type != TypeNumber {
				p.add(c.Line, "within_age_of needs a number fact (the age); %q is a %s", f.Name, f.Type)
			}
			g := r.Groups[c.Group]
			switch {
			case g == nil:
				p.add(c.Line, "unknown group %q", c.Group)
			case !g.HasAges:
				p.add(c.Line, "group %q has no age limits (write its countries as CODE: max_age)", c.Group)
			}
			cf := r.countryFact()
			if cf == nil {
				p.add(c.Line, "within_age_of needs a country fact")
			} else if where == "rule" {
				used[cf.Name] = true
			}
		}
	}
	for _, f := range r.Facts {
		for _, v := range f.Variants {
			walk(v.When, "variant")
		}
		if f.Article != "" && base != nil && base.Article("en", f.Article) == nil {
			p.add(f.Line, "fact %q: unknown article %q", f.Name, f.Article)
		}
	}
	for _, ru := range r.Rules {
		walk(ru.When, "rule")
		if base != nil && ru.Outcome != "" && base.Article("en", ru.Outcome) == nil && base.Broken("en", ru.Outcome) != "" {
			base.HoldBack() // the article's file is broken: that problem is reported
		} else if base != nil && ru.Outcome != "" && base.Article("en", ru.Outcome) == nil {
			p.add(ru.Line, "unknown outcome %q: no article with this ID in the knowledge", ru.Outcome)
		}
		for _, t := range ru.Tags {
			if !nameRE.MatchString(t) {
				p.add(ru.Line, "tag %q must be lower-case letters, digits and _", t)
			}
		}
	}
	for _, e := range r.Exits {
		walk(e.When, "rule")
	}
	for _, f := range r.Facts {
		if !used[f.Name] {
			p.add(f.Line, "question %q is not needed by any rule or exit: remove it or use it in a rule", f.Name)
		}
	}
	p.order(r)
}

func (r *Rules) hasTag(tag string) bool {
	for _, ru := range r.Rules {
		if contains(ru.Tags, tag) {
			return true
		}
	}
	return false
}

// deps returns the likely rules that a fits reference names.
func (r *Rules) deps(ref string) []*Rule {
	var out []*Rule
	for _, ru := range r.Rules {
		if ru.Kind != KindLikely {
			continue
		}
		switch {
		case ref == "*":
			out = append(out, ru)
		case strings.HasPrefix(ref, "#"):
			if contains(ru.Tags, ref[1:]) {
				out = append(out, ru)
			}
		case ru.Outcome == ref:
			out = append(out, ru)
		}
	}
	return out
}

func (c *Cond) fitsRefs(out *[]string) {
	if c == nil {
		return
	}
	if c.Op == "fits" {
		*out = append(*out, c.Fits...)
	}
	for _, k := range c.Kids {
		k.fitsRefs(out)
	}
}

// order sorts the rules so that every rule comes after the rules its fits
// conditions depend on, and reports cycles.
func (p *parser) order(r *Rules) {
	state := make([]int, len(r.Rules)) // 0 new, 1 visiting, 2 done
	var visit func(ru *Rule) bool
	visit = func(ru *Rule) bool {
		switch state[ru.idx] {
		case 1:
			p.add(ru.Line, "rule for %q depends on itself through fits (a likely rule cannot use fits on itself or on \"*\")", ru.Outcome)
			return false
		case 2:
			return true
		}
		state[ru.idx] = 1
		var refs []string
		ru.When.fitsRefs(&refs)
		ok := true
		for _, ref := range refs {
			for _, d := range r.deps(ref) {
				if d == ru {
					if ru.Kind == KindLikely {
						p.add(ru.Line, "rule for %q depends on itself through fits (a likely rule cannot use fits on itself or on \"*\")", ru.Outcome)
						ok = false
					}
					continue
				}
				if !visit(d) {
					ok = false
				}
			}
		}
		state[ru.idx] = 2
		r.order = append(r.order, ru.idx)
		return ok
	}
	for _, ru := range r.Rules {
		if !visit(ru) {
			return
		}
	}
}
