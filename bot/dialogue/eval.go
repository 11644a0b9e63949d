package dialogue

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// tri is a three-valued truth: a condition over a partial profile may be
// true, false or not yet known.
type tri int8

const (
	unknown tri = 0
	yes     tri = 1
	no      tri = -1
)

// evaluation is the state of every rule for one (partial) profile.
type evaluation struct {
	r     *Rules
	facts map[string]string
	res   []tri
	need  []map[string]bool // per rule: unknown facts that could decide it (nil until computed)
}

// evaluate evaluates every rule on facts (fact name -> canonical value).
func (r *Rules) evaluate(facts map[string]string) *evaluation {
	ev := &evaluation{r: r, facts: facts, res: make([]tri, len(r.Rules)), need: make([]map[string]bool, len(r.Rules))}
	for _, i := range r.order {
		ev.res[i] = ev.cond(r.Rules[i].When)
	}
	return ev
}

func (ev *evaluation) cond(c *Cond) tri {
	if c == nil {
		return no
	}
	switch c.Op {
	case "all":
		out := yes
		for _, k := range c.Kids {
			switch ev.cond(k) {
			case no:
				return no
			case unknown:
				out = unknown
			}
		}
		return out
	case "any":
		out := no
		for _, k := range c.Kids {
			switch ev.cond(k) {
			case yes:
				return yes
			case unknown:
				out = unknown
			}
		}
		return out
	case "not":
		if len(c.Kids) == 0 {
			return no
		}
		return -ev.cond(c.Kids[0])
	case "fits":
		out := no
		for _, ref := range c.Fits {
			for _, d := range ev.r.deps(ref) {
				switch ev.res[d.idx] {
				case yes:
					return yes
				case unknown:
					out = unknown
				}
			}
		}
		return out
	}
	f := ev.r.facts[c.Fact]
	v, known := ev.facts[c.Fact]
	if f == nil {
		return no
	}
	if known && v == Unknown && !(c.Op == "in" && contains(c.Values, Unknown)) && c.Op != "within_age_of" {
		return unknown // answered "I don't know": undecided, never asked again
	}
	switch c.Op {
	case "in":
		if !known {
			return unknown
		}
		for _, want := range c.Values {
			if valueIs(f, v, want) {
				return yes
			}
		}
		return no
	case "range":
		if !known {
			return unknown
		}
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || (c.Min != nil && x < *c.Min) || (c.Max != nil && x > *c.Max) {
			return no
		}
		return yes
	case "in_group":
		if !known {
			return unknown
		}
		g := ev.r.Groups[c.Group]
		for _, code := range strings.Split(v, ",") {
			if _, ok := g.Countries[code]; ok {
				return yes
			}
		}
		return no
	case "within_age_of":
		return ev.withinAge(c, v, known)
	}
	return no
}

// withinAge tells whether the age is within the limits of the group for
// (one of) the person's citizenships.
func (ev *evaluation) withinAge(c *Cond, age string, ageKnown bool) tri {
	g := ev.r.Groups[c.Group]
	cf := ev.r.countryFact()
	if g == nil || cf == nil {
		return no
	}
	cit, ok := ev.facts[cf.Name]
	if !ok || cit == Unknown {
		return unknown
	}
	confirmed, unconfirmed, in := g.limitFor(strings.Split(cit, ","))
	if !in {
		return no
	}
	limit := max(confirmed, unconfirmed)
	if !ageKnown || age == Unknown {
		return unknown
	}
	a, err := strconv.Atoi(age)
	if err != nil || a < g.MinAge || a > limit {
		return no
	}
	return yes
}

// ageUnconfirmed tells whether a within_age_of condition holds only thanks
// to a citizenship whose own limit is not confirmed (judged against the
// program's highest limit): such a rule is at most possible.
func (ev *evaluation) ageUnconfirmed(c *Cond) bool {
	g := ev.r.Groups[c.Group]
	cf := ev.r.countryFact()
	if g == nil || cf == nil || len(g.Unconfirmed) == 0 {
		return false
	}
	confirmed, unconfirmed, in := g.limitFor(strings.Split(ev.facts[cf.Name], ","))
	a, err := strconv.Atoi(ev.facts[c.Fact])
	return in && err == nil && unconfirmed > 0 && a > confirmed && a <= unconfirmed
}

// unconfirmedAges returns the groups of the within_age_of conditions of c
// that hold only thanks to an unconfirmed limit.
func (ev *evaluation) unconfirmedAges(c *Cond) []*Group {
	if c == nil {
		return nil
	}
	var out []*Group
	switch c.Op {
	case "all", "any":
		for _, k := range c.Kids {
			if ev.cond(k) == yes {
				out = append(out, ev.unconfirmedAges(k)...)
			}
		}
	case "within_age_of":
		if ev.ageUnconfirmed(c) {
			out = append(out, ev.r.Groups[c.Group])
		}
	}
	return out
}

func valueIs(f *Fact, v, want string) bool {
	switch f.Type {
	case TypeCountry:
		for _, code := range strings.Split(v, ",") {
			if code == want {
				return true
			}
		}
		return false
	case TypeNumber:
		a, err1 := strconv.ParseFloat(v, 64)
		b, err2 := strconv.ParseFloat(want, 64)
		return err1 == nil && err2 == nil && a == b
	}
	return v == want
}

// condNeed adds to out the unknown facts that could still change c.
func (ev *evaluation) condNeed(c *Cond, out map[string]bool) {
	if c == nil || ev.cond(c) != unknown {
		return
	}
	switch c.Op {
	case "all", "any", "not":
		for _, k := range c.Kids {
			ev.condNeed(k, out)
		}
	case "fits":
		for _, ref := range c.Fits {
			for _, d := range ev.r.deps(ref) {
				if ev.res[d.idx] == unknown {
					for f := range ev.ruleNeed(d) {
						out[f] = true
					}
				}
			}
		}
	case "within_age_of":
		if cf := ev.r.countryFact(); cf != nil {
			if _, ok := ev.facts[cf.Name]; !ok {
				out[cf.Name] = true
			}
		}
		if _, ok := ev.facts[c.Fact]; !ok {
			out[c.Fact] = true
		}
	default:
		if _, ok := ev.facts[c.Fact]; !ok {
			out[c.Fact] = true
		}
	}
}

func (ev *evaluation) ruleNeed(ru *Rule) map[string]bool {
	if ev.need[ru.idx] == nil {
		m := map[string]bool{}
		ev.need[ru.idx] = m // set first: fits graphs are acyclic, but be safe
		ev.condNeed(ru.When, m)
	}
	return ev.need[ru.idx]
}

// done is true when every rule is decided.
func (ev *evaluation) done() bool {
	for _, t := range ev.res {
		if t == unknown {
			return false
		}
	}
	return true
}

// exit returns the first exit whose condition holds.
func (ev *evaluation) exit() *Exit {
	for _, e := range ev.r.Exits {
		if ev.cond(e.When) == yes {
			return e
		}
	}
	return nil
}

// next returns the next fact to ask: the first, in the file's order, that
// an undecided rule or exit still depends on ("" when none).
func (ev *evaluation) next() string {
	needed := map[string]bool{}
	for i, ru := range ev.r.Rules {
		if ev.res[i] == unknown {
			for f := range ev.ruleNeed(ru) {
				needed[f] = true
			}
		}
	}
	if len(needed) == 0 {
		return ""
	}
	for _, e := range ev.r.Exits {
		ev.condNeed(e.When, needed)
	}
	for _, f := range ev.r.Facts {
		if needed[f.Name] {
			return f.Name
		}
	}
	return ""
}

// Suggestion is one outcome of a finished dialogue.
type Suggestion struct {
	Outcome string
	// Kind is how sure it is: likely (every condition known and met),
	// possible (a possible rule holds, or a likely rule depends on a fact
	// answered "I don't know"), or note.
	Kind string
	Rule *Rule
	// Unknown lists the facts answered "I don't know" that decide it.
	Unknown []string
	// Unconfirmed is the age group whose limit for the person's citizenship
	// is not confirmed, when the rule holds only thanks to it (then Kind is
	// possible and the group's UnconfirmedNote says what to check).
	Unconfirmed *Group
}

// suggestions lists the outcomes whose rules hold, or may hold once a fact
// answered "I don't know" is known: likely ones first, then possible ones,
// then notes, each in file order; one entry per outcome (its strongest
// rule).
func (ev *evaluation) suggestions() []Suggestion {
	rank := map[string]int{KindLikely: 0, KindPossible: 1, KindNote: 2}
	best := map[string]Suggestion{}
	for i, ru := range ev.r.Rules {
		var s Suggestion
		switch ev.res[i] {
		case yes:
			s = Suggestion{Outcome: ru.Outcome, Kind: ru.Kind, Rule: ru}
			if groups := ev.unconfirmedAges(ru.When); len(groups) > 0 && s.Kind == KindLikely {
				s.Kind = KindPossible
				s.Unconfirmed = groups[0]
			}
		case unknown:
			s = Suggestion{Outcome: ru.Outcome, Kind: ru.Kind, Rule: ru, Unknown: ev.unknownFacts(ru.When)}
			if s.Kind == KindLikely {
				s.Kind = KindPossible
			}
		default:
			continue
		}
		if b, ok := best[ru.Outcome]; !ok || rank[s.Kind] < rank[b.Kind] || (rank[s.Kind] == rank[b.Kind] && len(s.Unknown) < len(b.Unknown)) {
			best[ru.Outcome] = s
		}
	}
	var out []Suggestion
	for _, s := range best {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		if rank[out[i].Kind] != rank[out[j].Kind] {
			return rank[out[i].Kind] < rank[out[j].Kind]
		}
		return out[i].Rule.idx < out[j].Rule.idx
	})
	return out
}

// Decide evaluates a complete or partial profile without a conversation:
// it returns the outcome IDs when every rule is decided, or the next fact
// to ask. facts hold canonical values (country facts: alpha-2 codes,
// comma-separated).
func (r *Rules) Decide(facts map[string]string) (outcomes []string, next string) {
	ev := r.evaluate(facts)
	if e := ev.exit(); e != nil {
		return []string{}, ""
	}
	if !ev.done() {
		if n := ev.next(); n != "" {
			return nil, n
		}
	}
	outcomes = []string{}
	for _, s := range ev.suggestions() {
		outcomes = append(outcomes, s.Outcome)
	}
	return outcomes, ""
}

// unknownFacts lists, in file order, the facts answered "I don't know" (or
// not asked) that leave c undecided.
func (ev *evaluation) unknownFacts(c *Cond) []string {
	set := map[string]bool{}
	var walk func(c *Cond)
	walk = func(c *Cond) {
		if c == nil || ev.cond(c) != unknown {
			return
		}
		switch c.Op {
		case "all", "any", "not":
			for _, k := range c.Kids {
				walk(k)
			}
		case "fits":
			for _, ref := range c.Fits {
				for _, d := range ev.r.deps(ref) {
					if ev.res[d.idx] == unknown {
						walk(d.When)
					}
				}
			}
		case "within_age_of":
			set[c.Fact] = true
			if cf := ev.r.countryFact(); cf != nil && ev.facts[cf.Name] == Unknown {
				set[cf.Name] = true
			}
		default:
			set[c.Fact] = true
		}
	}
	walk(c)
	var out []string
	for _, f := range ev.r.Facts {
		if set[f.Name] {
			out = append(out, f.Name)
		}
	}
	return out
}

// leaves lists the fact conditions of c that hold (the reasons a rule fits),
// without descending into not or fits.
func (ev *evaluation) leaves(c *Cond, want tri, out *[]*Cond) {
	if c == nil {
		return
	}
	switch c.Op {
	case "all", "any":
		for _, k := range c.Kids {
			ev.leaves(k, want, out)
		}
	case "not", "fits":
	default:
		if ev.cond(c) == want {
			*out = append(*out, c)
		}
	}
}

// nearMiss returns the one condition that keeps a rule from holding when
// every other condition of its top-level all holds (nil otherwise, and for
// conditions on who asks or on other rules).
func (ev *evaluation) nearMiss(ru *Rule) *Cond {
	c := ru.When
	if c == nil {
		return nil
	}
	kids := []*Cond{c}
	if c.Op == "all" {
		kids = c.Kids
	}
	var failed *Cond
	for _, k := range kids {
		switch ev.cond(k) {
		case yes:
		case no:
			if failed != nil {
				return nil
			}
			failed = k
		default:
			return nil
		}
	}
	if failed == nil || failed.Op == "fits" || failed.Op == "not" || failed.Op == "all" || failed.Op == "any" || failed.Fact == "asker" {
		return nil
	}
	return failed
}

// reasons says which answers made a rule fit ("Citizenship: Ireland; Age:
// 27 (limit for Ireland: 35)").
func (ev *evaluation) reasons(ru *Rule, lang string) string {
	var leaves []*Cond
	ev.leaves(ru.When, yes, &leaves)
	var parts []string
	seen := map[string]bool{}
	for _, c := range leaves {
		f := ev.r.facts[c.Fact]
		if f == nil || seen[c.Fact] || c.Fact == "asker" {
			continue
		}
		seen[c.Fact] = true
		part := f.name(lang) + colon(lang) + f.valueLabel(lang, ev.facts[c.Fact])
		if c.Op == "within_age_of" {
			if country, limit, unconfirmed := ev.ageLimit(c); limit > 0 {
				if co, ok := CountryByCode(country); ok {
					country = co.DisplayName(lang)
				}
				key := "age_limit_of"
				if unconfirmed {
					key = "age_limit_unconfirmed"
				}
				part += " (" + sprintf(msg(lang, key), country, limit) + ")"
			}
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, "; ")
}

// ageLimit returns the country and the highest age limit of the person's
// citizenships in the group of a within_age_of condition; unconfirmed is
// true when that limit is the program's highest one, standing for a
// country whose own limit is not confirmed.
func (ev *evaluation) ageLimit(c *Cond) (country string, limit int, unconfirmed bool) {
	g := ev.r.Groups[c.Group]
	cf := ev.r.countryFact()
	if g == nil || cf == nil {
		return "", 0, false
	}
	for _, code := range strings.Split(ev.facts[cf.Name], ",") {
		max, ok := g.Countries[code]
		if !ok {
			continue
		}
		u := g.Unconfirmed[code]
		if u {
			max = g.UnconfirmedMax
		}
		if max > limit || (max == limit && unconfirmed && !u) {
			limit, country, unconfirmed = max, code, u
		}
	}
	return country, limit, unconfirmed
}

// factNames names facts in lang, joined.
func (ev *evaluation) factNames(names []string, lang string) string {
	var out []string
	for _, n := range names {
		if f := ev.r.facts[n]; f != nil {
			out = append(out, f.name(lang))
		}
	}
	return strings.Join(out, ", ")
}

// nearMisses explains, for each outcome not suggested, the one condition
// that failed when every other one held ("IEC: the age limit for Ireland
// is 35; you are 36"), for facts marked near_miss. At most four.
func (ev *evaluation) nearMisses(lang string) []string {
	suggested := map[string]bool{}
	for _, s := range ev.suggestions() {
		suggested[s.Outcome] = true
	}
	var out []string
	done := map[string]bool{}
	for i, ru := range ev.r.Rules {
		if ev.res[i] != no || ru.Kind == KindNote || suggested[ru.Outcome] || done[ru.Outcome] {
			continue
		}
		c := ev.nearMiss(ru)
		if c == nil {
			continue
		}
		f := ev.r.facts[c.Fact]
		if f == nil || !f.NearMiss || !ev.heldBesides(ru, c) {
			continue
		}
		done[ru.Outcome] = true
		out = append(out, ev.r.Title(lang, ru.Outcome)+colon(lang)+ev.missText(c, f, lang))
		if len(out) == 4 {
			break
		}
	}
	return out
}

// heldBesides reports whether a condition other than who asks held in
// ru besides the failed one (so that the miss is really near).
func (ev *evaluation) heldBesides(ru *Rule, failed *Cond) bool {
	var leaves []*Cond
	ev.leaves(ru.When, yes, &leaves)
	for _, c := range leaves {
		if c != failed && c.Fact != "asker" {
			return true
		}
	}
	return false
}

// missText says what a failed condition needed and what the answer was.
func (ev *evaluation) missText(c *Cond, f *Fact, lang string) string {
	v := ev.facts[c.Fact]
	switch c.Op {
	case "within_age_of":
		country, limit, unconfirmed := ev.ageLimit(c)
		name := country
		if co, ok := CountryByCode(country); ok {
			name = co.DisplayName(lang)
		}
		if g := ev.r.Groups[c.Group]; g != nil {
			if a, err := strconv.Atoi(v); err == nil && a < g.MinAge {
				return sprintf(msg(lang, "miss_min_age"), g.MinAge, a)
			}
		}
		if unconfirmed {
			return sprintf(msg(lang, "miss_age_unconfirmed"), limit, name, v)
		}
		return sprintf(msg(lang, "miss_age"), name, limit, v)
	case "in":
		var want []string
		for _, x := range c.Values {
			want = append(want, f.valueLabel(lang, x))
		}
		return sprintf(msg(lang, "miss_value"), f.name(lang), strings.Join(want, msg(lang, "or")), f.valueLabel(lang, v))
	case "in_group":
		g := ev.r.Groups[c.Group]
		label := c.Group
		if g != nil && g.Label.In(lang) != "" {
			label = g.Label.In(lang)
		}
		return sprintf(msg(lang, "miss_group"), label)
	case "range":
		return sprintf(msg(lang, "miss_value"), f.name(lang), rangeText(c), f.valueLabel(lang, v))
	}
	return f.name(lang)
}

func rangeText(c *Cond) string {
	switch {
	case c.Min != nil && c.Max != nil:
		return strconv.FormatFloat(*c.Min, 'f', -1, 64) + "–" + strconv.FormatFloat(*c.Max, 'f', -1, 64)
	case c.Min != nil:
		return "≥ " + strconv.FormatFloat(*c.Min, 'f', -1, 64)
	case c.Max != nil:
		return "≤ " + strconv.FormatFloat(*c.Max, 'f', -1, 64)
	}
	return ""
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
