package dialogue

import (
	"strings"
	"testing"

	"github.com/impbot/impbot/bot/session"
)

// suggestionFor returns the suggestion for outcome, or nil.
func suggestionFor(ev *evaluation, outcome string) *Suggestion {
	for _, s := range ev.suggestions() {
		if s.Outcome == outcome {
			return &s
		}
	}
	return nil
}

// TestUnconfirmedIECAge: a partner whose age limit is not confirmed
// (`XX: ~` in eligibility.yaml) is judged against the program's highest
// limit and is at most "possible", with the note that sends the person to
// IRCC's page; a confirmed limit still decides "likely" or "not by age".
func TestUnconfirmedIECAge(t *testing.T) {
	t.Parallel()
	r, b := shippedRules(t)
	g := r.Groups["iec"]
	if !g.Unconfirmed["BE"] || g.Unconfirmed["IS"] || g.Unconfirmed["IE"] {
		t.Fatalf("the shipped table should have Belgium unconfirmed and Iceland, Ireland confirmed: %v", g.Unconfirmed)
	}
	program := b.Facts.Fact("iec.age_max_program")
	if program == nil || program.Value != "35" || g.UnconfirmedMax != 35 {
		t.Fatalf("unconfirmed limit %d, program fact %+v", g.UnconfirmedMax, program)
	}
	if _, ok := b.Facts.Fact("iec.age_max").Values["BE"]; ok {
		t.Error("facts.yaml still gives Belgium a limit that is not confirmed")
	}
	page := "https://www.canada.ca/en/immigration-refugees-citizenship/services/work-canada/iec/eligibility/eligibility-by-country.html"

	cases := []struct {
		name, citizenship, age string
		kind                   string // "" = not suggested
		miss                   string // near-miss text expected when not suggested
	}{
		{"unconfirmed country within the program's limit", "BE", "33", KindPossible, ""},
		{"confirmed 30 limit, older", "IS", "33", "", "the age limit for Iceland is 30; you are 33"},
		{"confirmed 35 limit", "IE", "33", KindLikely, ""},
		{"unconfirmed country above every limit", "BE", "40", "", "no limit of this program goes above 35"},
		{"a confirmed citizenship wins over an unconfirmed one", "BE,IE", "33", KindLikely, ""},
		{"an unconfirmed one still helps above a confirmed 30", "IS,BE", "33", KindPossible, ""},
	}
	for _, c := range cases {
		ev := r.evaluate(map[string]string{"citizenship": c.citizenship, "age": c.age})
		s := suggestionFor(ev, "iec-overview")
		switch {
		case c.kind == "" && s != nil:
			t.Errorf("%s: suggested as %s", c.name, s.Kind)
		case c.kind != "" && s == nil:
			t.Errorf("%s: not suggested", c.name)
		case s != nil && s.Kind != c.kind:
			t.Errorf("%s: kind %s, want %s", c.name, s.Kind, c.kind)
		case s != nil && (s.Unconfirmed != nil) != (c.kind == KindPossible):
			t.Errorf("%s: unconfirmed group %v", c.name, s.Unconfirmed)
		}
		if c.miss != "" {
			misses := strings.Join(ev.nearMisses("en"), "\n")
			if !strings.Contains(misses, c.miss) {
				t.Errorf("%s: near misses %q lack %q", c.name, misses, c.miss)
			}
		}
	}

	// The whole dialogue: a 33-year-old Belgian hears "worth checking", why,
	// and where to check the limit; a 33-year-old Icelander hears the limit.
	c := &chat{t: t, e: newEngine(t, session.NewMemory(0)), user: "be"}
	resp := c.say("/eligibility")
	profile := base(map[string]string{"citizenship": "Belgium", "age": "33"})
	for !resp.Dialogue.Done {
		resp = c.say(profile[resp.Dialogue.Ask])
	}
	text := resp.Replies[0].Text
	possible := strings.Index(text, "Worth checking")
	iec := strings.Index(text, "not confirmed here")
	if possible < 0 || iec < possible || !strings.Contains(text, page) {
		t.Errorf("Belgian 33: the IEC suggestion is not under 'worth checking' with the page:\n%s", text)
	}
	if strings.Contains(text[:max(possible, 0)], "International Experience Canada") {
		t.Errorf("Belgian 33: IEC shown as likely:\n%s", text)
	}

	c = &chat{t: t, e: newEngine(t, session.NewMemory(0)), user: "is"}
	outcomes, _ := play(t, c, base(map[string]string{"citizenship": "Iceland", "age": "33"}))
	if contains(outcomes, "iec-overview") {
		t.Errorf("Icelander 33: IEC suggested: %v", outcomes)
	}
}

// TestCountryLeadUnconfirmedAge: the per-country answer says the limit is
// not confirmed and links the official page instead of stating a number.
func TestCountryLeadUnconfirmedAge(t *testing.T) {
	t.Parallel()
	r, b := shippedRules(t)
	cases := []struct {
		lang, q string
		want    []string
		not     []string
	}{
		{"en", "I'm Belgian, 33 years old, can I do a working holiday?", []string{
			"Belgium: an IEC partner, but its age limit for this season is not confirmed here",
			"eligibility-by-country.html", "At 33, you may be within it"}, []string{"IEC ages 18–30", "within the limit."}},
		{"en", "I'm Belgian, 40 years old, IEC?", []string{"At 40, you are above every IEC limit."}, nil},
		{"fr", "je suis belge, 29 ans, PVT ?", []string{"Belgique : pays partenaire d'EIC, mais sa limite d'âge pour cette saison n'est pas confirmée ici",
			"À 29 ans, vous êtes peut-être dans la limite"}, []string{"EIC de 18 à 30 ans"}},
	}
	for _, c := range cases {
		got := CountryLead(r, b, c.lang, b.Article(c.lang, "iec-overview"), c.q)
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s %q: lead %q lacks %q", c.lang, c.q, got, w)
			}
		}
		for _, w := range c.not {
			if strings.Contains(got, w) {
				t.Errorf("%s %q: lead %q has %q", c.lang, c.q, got, w)
			}
		}
	}
}

// TestParseUnconfirmedAges: countries without a maximum age need the
// program's highest limit and a note; a limit without such countries is an
// error too.
func TestParseUnconfirmedAges(t *testing.T) {
	t.Parallel()
	_, b := shippedRules(t)
	cases := []struct{ name, new, want string }{
		{"no max", "    countries: {IE: 35, JP: ~}", "give unconfirmed_max_age"},
		{"no note", "    unconfirmed_max_age: 35\n    countries: {IE: 35, JP: ~}", "give unconfirmed_note"},
		{"max without unconfirmed", "    unconfirmed_max_age: 35\n    countries: {IE: 35, JP: 30}", "unconfirmed_max_age without any country"},
	}
	for _, c := range cases {
		src := strings.Replace(minimal, "    countries: {IE: 35, JP: 30}", c.new, 1)
		r, probs := Parse("e.yaml", []byte(src), b)
		if r != nil || !strings.Contains(probs.Error(), c.want) {
			t.Errorf("%s: want %q, got %v", c.name, c.want, probs)
		}
	}
	src := strings.Replace(minimal, "    countries: {IE: 35, JP: 30}", "    unconfirmed_max_age: 35\n    unconfirmed_note: {en: \"Check it.\"}\n    countries: {IE: 35, JP: ~}", 1)
	r, probs := Parse("e.yaml", []byte(src), b)
	if r == nil {
		t.Fatalf("valid unconfirmed row refused: %v", probs)
	}
	if g := r.Groups["iec"]; !g.Unconfirmed["JP"] || g.Unconfirmed["IE"] || g.UnconfirmedMax != 35 || g.Countries["IE"] != 35 {
		t.Errorf("group %+v", g)
	}
}
