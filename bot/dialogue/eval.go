package dialogue

import (
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
	if !ok {
		return unknown
	}
	limit := -1
	for _, code := range strings.Split(cit, ",") {
		if max, ok := g.Countries[code]; ok && max > limit {
			limit = max
		}
	}
	if limit < 0 {
		return no
	}
	if !ageKnown {
		return unknown
	}
	a, err := strconv.Atoi(age)
	if err != nil || a < g.MinAge || a > limit {
		return no
	}
	return yes
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
	Kind    string
	Rule    *Rule
}

// suggestions lists the outcomes whose rules hold: likely ones first, then
// possible ones, then notes, each in file order; one entry per outcome (its
// strongest rule).
func (ev *evaluation) suggestions() []Suggestion {
	rank := map[string]int{KindLikely: 0, KindPossible: 1, KindNote: 2}
	best := map[string]*Rule{}
	for i, ru := range ev.r.Rules {
		if ev.res[i] != yes {
			continue
		}
		if b := best[ru.Outcome]; b == nil || rank[ru.Kind] < rank[b.Kind] {
			best[ru.Outcome] = ru
		}
	}
	var out []Suggestion
	for _, ru := range best {
		out = append(out, Suggestion{Outcome: ru.Outcome, Kind: ru.Kind, Rule: ru})
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
