package dialogue

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Mermaid draws the dialogue as a Mermaid flowchart for staff: the questions
// in the order they are asked (each only while a rule still needs it), and
// for every rule the answers that lead to its outcome. lang picks the
// language of the question texts.
func (r *Rules) Mermaid(lang string) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("flowchart TD")
	w("  %%%% Eligibility dialogue from %s.", r.File)
	w("  %%%% Solid arrows: the order of the questions; a question is skipped when no rule still needs it.")
	w("  %%%% Dotted arrows: the answers a rule tests (all of them must hold unless marked 'any of').")
	w("  start([/eligibility]) --> %s", qID(r.Facts[0].Name))
	for i, f := range r.Facts {
		label := f.Name + ": " + clip(f.Question.In(lang), 70)
		if f.Type == TypeChoice {
			label += "<br/>[" + strings.Join(f.Values(), " | ") + "]"
		} else {
			label += "<br/>(" + f.Type + ")"
		}
		w("  %s[\"%s\"]", qID(f.Name), mermaidText(label))
		if i+1 < len(r.Facts) {
			w("  %s --> %s", qID(f.Name), qID(r.Facts[i+1].Name))
		} else {
			w("  %s --> result([suggestions])", qID(f.Name))
		}
	}
	usesAny := false
	for i, ru := range r.Rules {
		id := fmt.Sprintf("r%d", i+1)
		label := ru.Outcome
		if ru.Kind != KindLikely {
			label += "<br/>(" + ru.Kind + ")"
		}
		w("  %s[\"%s\"]:::%s", id, mermaidText(label), ru.Kind)
		for _, e := range r.edges(ru.When, false, "") {
			from := qID(e.fact)
			switch {
			case e.fact == "*":
				from, usesAny = "anyfit", true
			case e.rule != nil:
				from = fmt.Sprintf("r%d", e.rule.idx+1)
			}
			w("  %s -. \"%s\" .-> %s", from, mermaidText(e.label), id)
		}
		w("  %s -.-> result", id)
	}
	if usesAny {
		w("  anyfit{{\"any likely rule holds\"}}")
	}
	for i, ex := range r.Exits {
		id := fmt.Sprintf("x%d", i+1)
		w("  %s([\"%s\"]):::exit", id, mermaidText("exit: "+clip(ex.Text.In(lang), 60)))
		for _, e := range r.edges(ex.When, false, "") {
			if e.fact != "*" && e.rule == nil {
				w("  %s -. \"%s\" .-> %s", qID(e.fact), mermaidText(e.label), id)
			}
		}
	}
	w("  classDef likely fill:#d8f5d8,stroke:#2e7d32")
	w("  classDef possible fill:#fff4c2,stroke:#b08800")
	w("  classDef note fill:#e8e8e8,stroke:#666")
	w("  classDef exit fill:#fde0dc,stroke:#c62828")
	return b.String()
}

type edge struct {
	fact  string // a fact name, or "*" for "any likely rule"
	rule  *Rule  // a rule referenced by fits
	label string
}

// edges lists what a condition tests, one edge per fact or referenced rule.
func (r *Rules) edges(c *Cond, neg bool, prefix string) []edge {
	if c == nil {
		return nil
	}
	not := ""
	if neg {
		not = "not "
	}
	switch c.Op {
	case "all":
		var out []edge
		for _, k := range c.Kids {
			out = append(out, r.edges(k, neg, prefix)...)
		}
		return out
	case "any":
		var out []edge
		for _, k := range c.Kids {
			out = append(out, r.edges(k, neg, "any of: ")...)
		}
		return out
	case "not":
		if len(c.Kids) == 0 {
			return nil
		}
		return r.edges(c.Kids[0], !neg, prefix)
	case "fits":
		var out []edge
		for _, ref := range c.Fits {
			if ref == "*" {
				out = append(out, edge{fact: "*", label: prefix + not + "fits"})
				continue
			}
			deps := r.deps(ref)
			sort.Slice(deps, func(i, j int) bool { return deps[i].idx < deps[j].idx })
			for _, d := range deps {
				out = append(out, edge{rule: d, label: prefix + not + "fits"})
			}
		}
		return out
	}
	var label string
	switch c.Op {
	case "in":
		label = strings.Join(c.Values, ", ")
	case "range":
		var parts []string
		if c.Min != nil {
			parts = append(parts, fmt.Sprintf(">= %g", *c.Min))
		}
		if c.Max != nil {
			parts = append(parts, fmt.Sprintf("<= %g", *c.Max))
		}
		label = strings.Join(parts, " and ")
	case "in_group":
		label = "in " + c.Group
	case "within_age_of":
		label = "within the " + c.Group + " age limit"
	}
	out := []edge{{fact: c.Fact, label: prefix + not + label}}
	if c.Op == "within_age_of" {
		if cf := r.countryFact(); cf != nil {
			out = append(out, edge{fact: cf.Name, label: prefix + not + "in " + c.Group})
		}
	}
	return out
}

var idRE = regexp.MustCompile(`[^A-Za-z0-9_]`)

func qID(name string) string { return "q_" + idRE.ReplaceAllString(name, "_") }

// mermaidText escapes a label for a quoted Mermaid string.
func mermaidText(s string) string {
	return strings.NewReplacer(`"`, "#quot;", "\n", " ").Replace(s)
}
