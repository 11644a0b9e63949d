package dialogue

import (
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/impbot/impbot/bot/session"
)

// minimal is a small valid rules file the broken cases start from.
const minimal = `version: 1
facts:
  - name: asker
    type: choice
    question: {en: "Who?", fr: "Qui ?"}
    options:
      - {value: worker, label: {en: Worker}}
      - {value: employer, label: {en: Employer}}
  - name: citizenship
    type: country
    question: {en: "Country?"}
  - name: age
    type: number
    min: 15
    max: 99
    question: {en: "Age?"}
groups:
  iec:
    min_age: 18
    countries: {IE: 35, JP: 30}
  cusma:
    countries: [US, MX]
rules:
  - outcome: iec-overview
    tags: [open]
    when:
      all:
        - {fact: citizenship, in_group: iec}
        - {fact: age, within_age_of: iec}
    why: {en: "IEC."}
  - outcome: cusma-professionals
    when: {all: [{fact: citizenship, in_group: cusma}, {fact: asker, is: worker}]}
    why: {en: "CUSMA."}
  - outcome: lmia-vs-imp
    kind: note
    when: {not: {fits: ["*"]}}
    why: {en: "LMIA."}
`

func TestParseMinimal(t *testing.T) {
	t.Parallel()
	_, b := shippedRules(t)
	r, probs := Parse("e.yaml", []byte(minimal), b)
	if len(probs) > 0 {
		t.Fatalf("minimal rules: %v", probs)
	}
	if r.Title("en", "iec-overview") == "iec-overview" {
		t.Error("no article title for the outcome")
	}
	for _, c := range []struct {
		facts   map[string]string
		want    string
		nextAsk string
	}{
		{map[string]string{}, "", "asker"},
		{map[string]string{"asker": "worker"}, "", "citizenship"},
		{map[string]string{"asker": "worker", "citizenship": "IE"}, "", "age"},
		{map[string]string{"asker": "worker", "citizenship": "IE", "age": "35"}, "iec-overview", ""},
		{map[string]string{"asker": "worker", "citizenship": "IE", "age": "36"}, "lmia-vs-imp", ""},
		{map[string]string{"asker": "worker", "citizenship": "JP,IE", "age": "33"}, "iec-overview", ""},
		{map[string]string{"asker": "employer", "citizenship": "IN"}, "lmia-vs-imp", ""}, // no age asked
		{map[string]string{"asker": "worker", "citizenship": "MX"}, "cusma-professionals", ""},
	} {
		out, next := r.Decide(c.facts)
		if next != c.nextAsk || strings.Join(out, ",") != c.want {
			t.Errorf("%v: outcomes %v next %q, want %q next %q", c.facts, out, next, c.want, c.nextAsk)
		}
	}
}

func TestParseProblems(t *testing.T) {
	t.Parallel()
	_, b := shippedRules(t)
	cases := []struct {
		name, old, new string
		want           string // message substring
		at             string // the problem is on the line of this text in the broken file ("": any line)
	}{
		{"unknown top key", "version: 1", "version: 1\nextra: true", `unknown key "extra"`, "extra: true"},
		{"version", "version: 1", "version: 2", "unsupported version 2", "version: 2"},
		{"bad type", "type: country", "type: land", `type must be choice, number or country, not "land"`, "type: land"},
		{"one option", "      - {value: employer, label: {en: Employer}}\n", "", "needs at least two options", "- name: asker"},
		{"duplicate option", "{value: employer,", "{value: worker,", `duplicate option value "worker"`, "{value: worker, label: {en: Employer}}"},
		{"no English", `question: {en: "Age?"}`, `question: {fr: "Âge ?"}`, "has no English (en) text", "question: {fr: \"Âge ?\"}"},
		{"unknown fact", "{fact: asker, is: worker}", "{fact: askr, is: worker}", `unknown fact "askr"`, "{fact: askr"},
		{"unknown value", "{fact: asker, is: worker}", "{fact: asker, is: workers}", `unknown value "workers" for fact "asker"`, "{fact: asker, is: workers}"},
		{"unknown group", "{fact: citizenship, in_group: cusma}", "{fact: citizenship, in_group: nafta}", `unknown group "nafta"`, "in_group: nafta"},
		{"group without ages", "within_age_of: iec", "within_age_of: cusma", `group "cusma" has no age limits`, "within_age_of: cusma"},
		{"bad country code", "countries: [US, MX]", "countries: [US, XX]", `"XX" is not an ISO 3166-1 alpha-2 country code`, "[US, XX]"},
		{"implausible age", "{IE: 35, JP: 30}", "{IE: 350, JP: 30}", "maximum age 350", "IE: 350"},
		{"unknown outcome", "outcome: cusma-professionals", "outcome: cusma-pros", `unknown outcome "cusma-pros"`, "- outcome: cusma-pros"},
		{"fits unknown outcome", `fits: ["*"]`, `fits: ["pgwp"]`, `fits "pgwp": no rule has this outcome`, "{not: {fits: [\"pgwp\"]}}"},
		{"fits unknown tag", `fits: ["*"]`, `fits: ["#closed"]`, `no rule has the tag "closed"`, "{not: {fits: [\"#closed\"]}}"},
		{"cycle", "  - outcome: lmia-vs-imp\n    kind: note\n", "  - outcome: lmia-vs-imp\n", "depends on itself through fits", "- outcome: lmia-vs-imp"},
		{"two operators", "{not: {fits: [\"*\"]}}", "{not: {fits: [\"*\"]}, fact: asker}", "exactly one of fact, all, any, not, fits", "{not: {fits: [\"*\"]}, fact: asker}"},
		{"two tests", "{fact: asker, is: worker}", "{fact: asker, is: worker, in: [employer]}", "exactly one test", "{fact: asker, is: worker, in"},
		{"unneeded question", "{fact: age, within_age_of: iec}", "{fact: citizenship, in_group: iec}", `question "age" is not needed by any rule`, "- name: age"},
		{"min above max", "min: 15", "min: 150", "min 150 is above max 99", "- name: age"},
		{"range on a choice", "{fact: asker, is: worker}", "{fact: asker, min: 3}", `min/max need a number fact; "asker" is a choice`, "{fact: asker, min: 3}"},
		{"kind", "kind: note", "kind: maybe", `kind must be likely, possible or note, not "maybe"`, "kind: maybe"},
		{"yaml syntax", "why: {en: \"IEC.\"}", "why: {en: \"IEC.\"", "", ""},
		{"tab indentation", "version: 1\n", "version: 1\n\tfacts: []\n", "", ""},
	}
	for _, c := range cases {
		if !strings.Contains(minimal, c.old) {
			t.Fatalf("%s: %q not in the minimal rules", c.name, c.old)
		}
		src := strings.Replace(minimal, c.old, c.new, 1)
		r, probs := Parse("e.yaml", []byte(src), b)
		if r != nil || len(probs) == 0 {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		found := false
		for _, p := range probs {
			if p.File == "e.yaml" && strings.Contains(p.Message, c.want) && (c.at == "" || p.Line == lineOf(src, c.at)) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: want %q at line %d, got:\n%v", c.name, c.want, lineOf(src, c.at), probs)
		}
	}
}

// lineOf returns the 1-based line of the first occurrence of sub in s.
func lineOf(s, sub string) int {
	i := strings.Index(s, sub)
	if i < 0 {
		return -1
	}
	return strings.Count(s[:i], "\n") + 1
}

func TestParseGarbage(t *testing.T) {
	t.Parallel()
	for _, src := range []string{"", "[]", "42", "facts: 3\nrules: {}", "\x00\x01", strings.Repeat("- [", 200)} {
		r, probs := Parse("e.yaml", []byte(src), nil)
		if r != nil || len(probs) == 0 {
			t.Errorf("%q accepted", src)
		}
		for _, p := range probs {
			if p.Line < 1 {
				t.Errorf("%q: problem without a line: %v", src, p)
			}
		}
	}
}

func TestMermaid(t *testing.T) {
	t.Parallel()
	r, _ := shippedRules(t)
	g := r.Mermaid("en")
	if !strings.HasPrefix(g, "flowchart TD\n") {
		t.Fatalf("not a flowchart: %.100s", g)
	}
	for _, f := range r.Facts {
		if !strings.Contains(g, "  "+qID(f.Name)+"[\"") {
			t.Errorf("no node for question %s", f.Name)
		}
	}
	for i, ru := range r.Rules {
		if !strings.Contains(g, "  r"+strconv.Itoa(i+1)+"[\""+ru.Outcome) {
			t.Errorf("no node for rule %d (%s)", i+1, ru.Outcome)
		}
	}
	for _, want := range []string{
		`q_citizenship -. "in iec" .-> r1`,
		`q_age -. "within the iec age limit" .-> r1`,
		`anyfit -. "not fits" .->`,
		`q_teer -. "0, 1" .->`,
		// the questions of issue 18, and the rules that test them
		`q_listed_profession -. "yes" .->`,
		`q_service_contract -. "yes" .->`,
		`q_visit_kind -. "business_visitor" .->`,
		`q_visit_kind -. "short_work" .->`,
		`q_exceptional -. "yes" .->`,
	} {
		if !strings.Contains(g, want) {
			t.Errorf("graph lacks %q", want)
		}
	}
	if strings.Count(g, `"`)%2 != 0 {
		t.Error("unbalanced quotes in the graph")
	}
}

func TestIdleTimeoutEndsTheDialogue(t *testing.T) {
	t.Parallel()
	var now atomic.Int64
	now.Store(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	c := &chat{t: t, e: newEngine(t, session.NewMemory(30*time.Minute, session.WithClock(clock))), user: "u"}
	c.say("/eligibility")
	asks(t, c.say("worker"), "citizenship")
	now.Add(int64(29 * time.Minute))
	asks(t, c.say("Ireland"), "age") // activity restarts the timer
	now.Add(int64(31 * time.Minute))
	if resp := c.say("30"); resp != nil {
		t.Fatalf("dialogue still active after 31 idle minutes: %+v", resp.Dialogue)
	}
}

func TestSetRulesMidDialogue(t *testing.T) {
	t.Parallel()
	e := newEngine(t, session.NewMemory(0))
	c := &chat{t: t, e: e, user: "u"}
	c.say("/eligibility")
	c.say("worker")
	c.say("Ireland")
	asks(t, c.say("30"), "in_canada")
	_, b := shippedRules(t)
	r, probs := Parse("e.yaml", []byte(minimal), b)
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	e.SetRules(r)
	// in_canada no longer exists: the answer goes nowhere and the
	// dialogue ends with the new rules' decision on the known facts.
	resp := c.say("no")
	if resp == nil || !resp.Dialogue.Done || strings.Join(resp.Dialogue.Outcomes, ",") != "iec-overview" {
		t.Fatalf("after new rules: %+v", resp)
	}
	if _, err := New(nil, Options{Store: session.NewMemory(0)}); err == nil {
		t.Error("New without rules")
	}
	if _, err := New(r, Options{}); err == nil {
		t.Error("New without a store")
	}
}
