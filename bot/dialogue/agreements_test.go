package dialogue

import (
	"os"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/impbot/impbot/bot/session"
)

// profileDefaults answer the questions a profile does not mention: a worker
// abroad, no offer, nothing special.
var profileDefaults = map[string]string{
	"asker": "worker", "age": "40", "in_canada": "no", "job_offer": "no", "teer": "unknown", "job_in_quebec": "no",
	"short_visit": "no", "visit_kind": "business_visitor", "related_company_year": "no", "role": "other", "french": "no",
	"work_kind": "standard", "canadian_graduate": "no", "pr_applicant": "no", "abuse": "no", "spouse": "none",
	"listed_profession": "no", "service_contract": "no", "exceptional": "no",
}

// kindsOf evaluates a profile (over the defaults) and returns outcome ->
// kind (likely, possible, note).
func kindsOf(t *testing.T, r *Rules, over map[string]string) map[string]string {
	t.Helper()
	facts := map[string]string{}
	for k, v := range profileDefaults {
		facts[k] = v
	}
	for k, v := range over {
		if r.Fact(k) == nil {
			t.Fatalf("unknown fact %q in a test profile", k)
		}
		facts[k] = v
	}
	if cf := r.countryFact(); cf != nil {
		res := ResolveCountry(facts[cf.Name])
		if len(res.Codes) == 0 {
			t.Fatalf("country %q does not resolve", facts[cf.Name])
		}
		facts[cf.Name] = strings.Join(res.Codes, ",")
	}
	ev := r.evaluate(facts)
	if ev.exit() != nil {
		return map[string]string{}
	}
	if n := ev.next(); n != "" {
		t.Fatalf("profile %v still needs %q", over, n)
	}
	out := map[string]string{}
	for _, s := range ev.suggestions() {
		out[s.Outcome] = s.Kind
	}
	return out
}

// agreementCase is one positive or negative case of an agreement's
// category, from the official lists.
type agreementCase struct {
	agreement, category string
	outcome, kind       string // kind: likely, possible, or "" (absent)
	facts               map[string]string
}

var agreementCases = []agreementCase{
	// CUSMA: professionals on the list of 63 professions (T36); transferees; traders and investors.
	{"cusma", "professionals", "cusma-professionals", "likely", map[string]string{"citizenship": "US", "job_offer": "yes", "listed_profession": "yes"}},
	{"cusma", "professionals", "cusma-professionals", "possible", map[string]string{"citizenship": "Mexico", "job_offer": "yes", "listed_profession": "unknown"}},
	{"cusma", "professionals", "cusma-professionals", "", map[string]string{"citizenship": "Mexico", "job_offer": "yes", "teer": "3", "listed_profession": "no"}}, // a cook
	{"cusma", "professionals", "cusma-professionals", "", map[string]string{"citizenship": "Canada and Brazil", "job_offer": "yes", "listed_profession": "yes"}},
	{"cusma", "professionals", "cusma-professionals", "", map[string]string{"citizenship": "USA", "job_offer": "yes", "teer": "4", "listed_profession": "unknown"}}, // a care aide: no listed profession is TEER 4
	{"cusma", "transferees", "cusma-ict-traders-investors", "likely", map[string]string{"citizenship": "Mexico", "job_offer": "yes", "related_company_year": "yes", "role": "executive_manager"}},
	{"cusma", "transferees", "cusma-ict-traders-investors", "", map[string]string{"citizenship": "Mexico", "job_offer": "yes", "related_company_year": "yes", "role": "other"}},
	{"cusma", "traders", "cusma-ict-traders-investors", "possible", map[string]string{"citizenship": "USA", "work_kind": "own_business"}},
	{"cusma", "investors", "cusma-ict-traders-investors", "", map[string]string{"citizenship": "Brazil", "work_kind": "own_business"}},
	{"cusma", "investors", "cusma-ict-traders-investors", "possible", map[string]string{"citizenship": "Mexico", "work_kind": "own_business"}},
	{"cusma", "traders", "cusma-ict-traders-investors", "", map[string]string{"citizenship": "USA", "work_kind": "academic", "job_offer": "yes"}},
	// CETA/CUKTCA: transferees, investors, contractual service suppliers, independent professionals (codes T43-T48 until December 2022; no current code confirmed); no direct hires.
	{"ceta", "transferees", "ceta-cuktca", "likely", map[string]string{"citizenship": "Germany", "job_offer": "yes", "related_company_year": "yes", "role": "specialized_knowledge"}},
	{"ceta", "transferees", "ceta-cuktca", "", map[string]string{"citizenship": "Germany", "job_offer": "yes", "teer": "1"}}, // hired directly
	{"ceta", "investors", "ceta-cuktca", "possible", map[string]string{"citizenship": "Italy", "work_kind": "own_business"}},
	{"ceta", "investors", "ceta-cuktca", "", map[string]string{"citizenship": "Italy", "work_kind": "standard"}},
	{"ceta", "contract_service_suppliers", "ceta-cuktca", "possible", map[string]string{"citizenship": "United Kingdom", "job_offer": "yes", "teer": "1", "service_contract": "yes"}},
	{"ceta", "contract_service_suppliers", "ceta-cuktca", "", map[string]string{"citizenship": "United Kingdom", "job_offer": "yes", "teer": "1", "service_contract": "no"}},
	{"ceta", "independent_professionals", "ceta-cuktca", "possible", map[string]string{"citizenship": "France", "age": "40", "job_offer": "yes", "service_contract": "yes"}},
	{"ceta", "independent_professionals", "ceta-cuktca", "", map[string]string{"citizenship": "Norway", "job_offer": "yes", "service_contract": "yes"}}, // not EU
	// CPTPP: professionals TEER 0/1 on a country list (T52; not NZ, SG, VN), technicians, transferees (T51; not SG, VN), investors (T50).
	{"cptpp", "professionals", "cptpp", "likely", map[string]string{"citizenship": "Japan", "job_offer": "yes", "teer": "1", "listed_profession": "yes"}},
	{"cptpp", "professionals", "cptpp", "", map[string]string{"citizenship": "Vietnam", "job_offer": "yes", "teer": "1", "listed_profession": "yes"}},
	{"cptpp", "professionals", "cptpp", "", map[string]string{"citizenship": "Australia", "job_offer": "yes", "teer": "4", "listed_profession": "yes"}},
	{"cptpp", "technicians", "cptpp", "possible", map[string]string{"citizenship": "Malaysia", "job_offer": "yes", "teer": "2", "listed_profession": "yes"}},
	{"cptpp", "technicians", "cptpp", "", map[string]string{"citizenship": "Malaysia", "job_offer": "yes", "teer": "2", "listed_profession": "no"}},
	{"cptpp", "transferees", "cptpp", "likely", map[string]string{"citizenship": "New Zealand", "job_offer": "yes", "related_company_year": "yes", "role": "executive_manager"}},
	{"cptpp", "transferees", "cptpp", "", map[string]string{"citizenship": "Singapore", "job_offer": "yes", "related_company_year": "yes", "role": "executive_manager"}},
	{"cptpp", "investors", "cptpp", "possible", map[string]string{"citizenship": "Brunei", "work_kind": "own_business"}},
	{"cptpp", "investors", "cptpp", "", map[string]string{"citizenship": "Brunei", "work_kind": "charitable"}},
	// Chile: listed professionals, transferees, traders, investors.
	{"chile", "professionals", "other-ftas", "likely", map[string]string{"citizenship": "Chile", "job_offer": "yes", "listed_profession": "yes"}},
	{"chile", "professionals", "other-ftas", "", map[string]string{"citizenship": "Chile", "job_offer": "yes", "teer": "0", "listed_profession": "no"}},
	{"chile", "transferees", "other-ftas", "likely", map[string]string{"citizenship": "Chile", "job_offer": "yes", "related_company_year": "yes", "role": "specialized_knowledge"}},
	{"chile", "transferees", "other-ftas", "", map[string]string{"citizenship": "Chile", "job_offer": "yes", "related_company_year": "no", "role": "specialized_knowledge"}},
	{"chile", "traders", "other-ftas", "possible", map[string]string{"citizenship": "Chile", "work_kind": "own_business"}},
	{"chile", "investors", "other-ftas", "", map[string]string{"citizenship": "Argentina", "work_kind": "own_business"}},
	{"chile", "investors", "other-ftas", "possible", map[string]string{"citizenship": "Chilean", "work_kind": "own_business"}},
	{"chile", "traders", "other-ftas", "", map[string]string{"citizenship": "Chile", "work_kind": "standard"}},
	// Peru and Colombia: professionals not excluded, listed technicians, transferees, traders, investors.
	{"peru_colombia", "professionals", "other-ftas", "likely", map[string]string{"citizenship": "Peru", "job_offer": "yes", "teer": "1", "listed_profession": "yes"}},
	{"peru_colombia", "professionals", "other-ftas", "", map[string]string{"citizenship": "Colombia", "job_offer": "yes", "teer": "1", "listed_profession": "no"}}, // e.g. a nurse: health is excluded
	{"peru_colombia", "technicians", "other-ftas", "likely", map[string]string{"citizenship": "Colombia", "job_offer": "yes", "teer": "2", "listed_profession": "yes"}},
	{"peru_colombia", "technicians", "other-ftas", "possible", map[string]string{"citizenship": "Colombia", "job_offer": "yes", "teer": "2", "listed_profession": "unknown"}},
	{"peru_colombia", "transferees", "other-ftas", "likely", map[string]string{"citizenship": "Peru", "job_offer": "yes", "related_company_year": "yes", "role": "executive_manager"}},
	{"peru_colombia", "transferees", "other-ftas", "", map[string]string{"citizenship": "Peru", "job_offer": "yes", "related_company_year": "yes", "role": "other"}},
	{"peru_colombia", "traders", "other-ftas", "possible", map[string]string{"citizenship": "Peru", "work_kind": "own_business"}},
	{"peru_colombia", "investors", "other-ftas", "", map[string]string{"citizenship": "Peru", "work_kind": "standard"}},
	{"peru_colombia", "investors", "other-ftas", "possible", map[string]string{"citizenship": "Colombia", "work_kind": "own_business"}},
	{"peru_colombia", "traders", "other-ftas", "", map[string]string{"citizenship": "Ecuador", "work_kind": "own_business"}},
	{"peru_colombia", "technicians", "other-ftas", "", map[string]string{"citizenship": "Colombia", "job_offer": "yes", "teer": "2", "listed_profession": "no"}},
	// Korea: professionals only as contractual service suppliers or independent professionals (F32); transferees; traders (F30); investors.
	{"korea", "contract_service_suppliers", "other-ftas", "likely", map[string]string{"citizenship": "South Korea", "job_offer": "yes", "service_contract": "yes", "listed_profession": "yes"}},
	{"korea", "contract_service_suppliers", "other-ftas", "", map[string]string{"citizenship": "South Korea", "job_offer": "yes", "teer": "unknown", "service_contract": "no", "listed_profession": "yes"}}, // a direct hire
	{"korea", "independent_professionals", "other-ftas", "possible", map[string]string{"citizenship": "Korea", "job_offer": "yes", "service_contract": "yes", "listed_profession": "unknown"}},
	{"korea", "independent_professionals", "other-ftas", "", map[string]string{"citizenship": "Korea", "job_offer": "yes", "service_contract": "yes", "listed_profession": "no"}},
	{"korea", "transferees", "other-ftas", "likely", map[string]string{"citizenship": "Korea", "job_offer": "yes", "related_company_year": "yes", "role": "executive_manager"}},
	{"korea", "transferees", "other-ftas", "", map[string]string{"citizenship": "North Korea", "job_offer": "yes", "related_company_year": "yes", "role": "executive_manager"}},
	{"korea", "traders", "other-ftas", "possible", map[string]string{"citizenship": "Korea", "work_kind": "own_business"}},
	{"korea", "investors", "other-ftas", "", map[string]string{"citizenship": "Japan", "age": "40", "work_kind": "own_business", "job_offer": "no"}},
	{"korea", "investors", "other-ftas", "possible", map[string]string{"citizenship": "South Korea", "work_kind": "own_business"}},
	{"korea", "traders", "other-ftas", "", map[string]string{"citizenship": "South Korea", "work_kind": "other"}},
	// Panama: professionals on the list (F42) only; transferees, traders and investors are not in force.
	{"panama", "professionals", "other-ftas", "likely", map[string]string{"citizenship": "Panama", "job_offer": "yes", "listed_profession": "yes"}},
	{"panama", "professionals", "other-ftas", "", map[string]string{"citizenship": "Panama", "job_offer": "yes", "related_company_year": "yes", "role": "executive_manager", "listed_profession": "no"}},
	// Ukraine (CUFTA): professionals in TEER 0/1 (F72), transferees (F71, F74), investors (code not confirmed).
	{"cufta", "professionals", "other-ftas", "likely", map[string]string{"citizenship": "Ukraine", "job_offer": "yes", "teer": "1"}},
	{"cufta", "professionals", "other-ftas", "", map[string]string{"citizenship": "Ukraine", "job_offer": "yes", "teer": "3"}}, // the cook of issue 18
	{"cufta", "professionals", "other-ftas", "possible", map[string]string{"citizenship": "Ukraine", "job_offer": "yes", "teer": "unknown"}},
	{"cufta", "transferees", "other-ftas", "likely", map[string]string{"citizenship": "Ukraine", "job_offer": "yes", "teer": "4", "related_company_year": "yes", "role": "specialized_knowledge"}},
	{"cufta", "transferees", "other-ftas", "", map[string]string{"citizenship": "Ukraine", "job_offer": "yes", "teer": "4", "related_company_year": "yes", "role": "other"}},
	{"cufta", "investors", "other-ftas", "possible", map[string]string{"citizenship": "Ukraine", "work_kind": "own_business"}},
	{"cufta", "investors", "other-ftas", "", map[string]string{"citizenship": "Ukraine", "work_kind": "religious"}},
}

func TestAgreementCategories(t *testing.T) {
	t.Parallel()
	r, _ := shippedRules(t)
	covered := map[string]map[string]bool{} // agreement/category -> positive, negative seen
	for _, c := range agreementCases {
		got := kindsOf(t, r, c.facts)[c.outcome]
		if got != c.kind {
			t.Errorf("%s %s %v: %s is %q, want %q", c.agreement, c.category, c.facts, c.outcome, got, c.kind)
		}
		key := c.agreement + "/" + c.category
		if covered[key] == nil {
			covered[key] = map[string]bool{}
		}
		covered[key][map[bool]string{true: "positive", false: "negative"}[c.kind != ""]] = true
	}
	// Every category of every agreement in eligibility.yaml has a positive
	// and a negative case here.
	for _, a := range r.Agreements {
		for _, c := range a.Categories {
			key := a.ID + "/" + c.Kind
			if !covered[key]["positive"] || !covered[key]["negative"] {
				t.Errorf("agreement %s category %s: positive %v negative %v case missing", a.ID, c.Kind, covered[key]["positive"], covered[key]["negative"])
			}
			if c.Outcome == "" {
				t.Errorf("%s: no outcome", key)
			}
		}
		if !officialSource(a.Source) {
			t.Errorf("agreement %s: source %q", a.ID, a.Source)
		}
	}
	if len(r.Agreements) < 8 {
		t.Errorf("only %d agreements in the data", len(r.Agreements))
	}
}

// regressionProfile is one row of testdata/profiles.yaml.
type regressionProfile struct {
	Name     string            `yaml:"name"`
	Source   string            `yaml:"source"`
	Facts    map[string]string `yaml:"facts"`
	Likely   []string          `yaml:"likely"`
	Possible []string          `yaml:"possible"`
	Absent   []string          `yaml:"absent"`
}

// TestRegressionProfiles checks the reviewed table of profiles -> outcomes
// (testdata/profiles.yaml): each listed outcome must have exactly that
// kind; likely outcomes not listed are an error too (no stream is called
// likely that the table does not say).
func TestRegressionProfiles(t *testing.T) {
	t.Parallel()
	r, _ := shippedRules(t)
	data, err := os.ReadFile("testdata/profiles.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var ps []regressionProfile
	if err := yaml.Unmarshal(data, &ps); err != nil {
		t.Fatal(err)
	}
	if len(ps) < 20 {
		t.Fatalf("only %d profiles", len(ps))
	}
	for _, p := range ps {
		got := kindsOf(t, r, p.Facts)
		for _, o := range p.Likely {
			if got[o] != KindLikely {
				t.Errorf("%s: %s is %q, want likely", p.Name, o, got[o])
			}
		}
		for _, o := range p.Possible {
			if got[o] != KindPossible {
				t.Errorf("%s: %s is %q, want possible", p.Name, o, got[o])
			}
		}
		for _, o := range p.Absent {
			if _, ok := got[o]; ok {
				t.Errorf("%s: %s is %q, want absent", p.Name, o, got[o])
			}
		}
		var extra []string
		for o, k := range got {
			if k == KindLikely && !contains(p.Likely, o) {
				extra = append(extra, o)
			}
		}
		sort.Strings(extra)
		if len(extra) > 0 {
			t.Errorf("%s: likely %v, not in the reviewed table", p.Name, extra)
		}
	}
}

// TestOutcomeExplanations checks the words of the result: the reasons a
// stream fits, the unknown answer a possible one depends on, the one
// condition of a near miss, and no "the job needs an LMIA" without a job.
func TestOutcomeExplanations(t *testing.T) {
	t.Parallel()
	r, _ := shippedRules(t)
	e := newEngine(t, session.NewMemory(0))
	render := func(over map[string]string, lang string) string {
		t.Helper()
		facts := map[string]string{}
		for k, v := range profileDefaults {
			facts[k] = v
		}
		for k, v := range over {
			facts[k] = v
		}
		facts["citizenship"] = strings.Join(ResolveCountry(facts["citizenship"]).Codes, ",")
		var order []string
		for _, f := range r.Facts {
			order = append(order, f.Name)
		}
		resp, sum := e.result(r, r.evaluate(facts), &state{Lang: lang, Facts: facts, Order: order}, "")
		return resp.Replies[0].Text + "\n" + sum
	}
	cases := []struct {
		name      string
		facts     map[string]string
		lang      string
		want, not []string
	}{
		{"francophone in Quebec", map[string]string{"citizenship": "Belgium", "job_offer": "yes", "teer": "2", "french": "yes", "job_in_quebec": "yes"}, "en",
			[]string{"Close, but not a fit", "Francophone", "needs Job in Quebec: No; your answer: Yes", "this job probably needs an LMIA"}, nil},
		{"IEC over the limit", map[string]string{"citizenship": "Japan", "age": "31"}, "en",
			[]string{"the age limit for Japan is 30; you are 31", "No work permit stream fits these answers today", "Permanent residence", "Study permits", "licensed representative"},
			[]string{"the job probably needs", "this job probably needs"}},
		{"IEC within the limit", map[string]string{"citizenship": "Japan", "age": "29"}, "en",
			[]string{"Why it fits", "Citizenship: Japan; Age: 29 (limit for Japan: 30)"}, []string{"Close, but not a fit"}},
		{"CUSMA unknown list", map[string]string{"citizenship": "Mexico", "job_offer": "yes", "listed_profession": "unknown"}, "en",
			[]string{"Worth checking", "Depends on what you could not tell me:_ Job on the agreement's list of professions", "CUSMA professionals (T36) for US and Mexican citizens (possible)"}, nil},
		{"Ukraine TEER 3", map[string]string{"citizenship": "Ukraine", "job_offer": "yes", "teer": "3"}, "en",
			[]string{"needs TEER of the job: TEER 0: management or TEER 1: usually a university degree; your answer: TEER 3"}, nil},
		{"limite EIC en français", map[string]string{"citizenship": "Irlande", "age": "36"}, "fr",
			[]string{"Presque, mais pas admissible", "la limite d'âge pour ce pays (Irlande) est de 35 ans ; vous avez 36 ans", "Récapitulatif", "Réponses :"}, nil},
	}
	for _, c := range cases {
		text := render(c.facts, c.lang)
		for _, w := range c.want {
			if !strings.Contains(text, w) {
				t.Errorf("%s: lacks %q:\n%s", c.name, w, text)
			}
		}
		for _, w := range c.not {
			if strings.Contains(text, w) {
				t.Errorf("%s: says %q:\n%s", c.name, w, text)
			}
		}
	}
}
