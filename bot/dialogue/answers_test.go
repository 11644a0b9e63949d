package dialogue

import (
	"strings"
	"sync"
	"testing"

	"github.com/impbot/impbot/knowledge"
)

var (
	shippedOnce  sync.Once
	shippedR     *Rules
	shippedB     *knowledge.Base
	shippedProbs error
)

// shippedRules are the shipped rules and knowledge, loaded and parsed once
// for the package (neither is changed by the tests).
func shippedRules(t testing.TB) (*Rules, *knowledge.Base) {
	t.Helper()
	shippedOnce.Do(func() {
		b, err := knowledge.LoadShipped()
		if err != nil {
			shippedProbs = err
			return
		}
		r, probs := Parse("knowledge/eligibility.yaml", b.Files[File], b)
		if len(probs) > 0 {
			shippedProbs = probs
			return
		}
		shippedR, shippedB = r, b
	})
	if shippedProbs != nil {
		t.Fatalf("shipped rules: %v", shippedProbs)
	}
	return shippedR, shippedB
}

func TestLenientChoiceAnswers(t *testing.T) {
	t.Parallel()
	r, _ := shippedRules(t)
	cases := []struct {
		fact, in, want string // want "" = not accepted
		question       bool
	}{
		{"asker", "worker", "worker", false},
		{"asker", "I'm the worker", "worker", false}, // label
		{"asker", "Je suis un employeur", "employer", false},
		{"asker", "1", "worker", false}, // option number
		{"asker", "2", "employer", false},
		{"asker", "EMPLOYER", "employer", false},
		{"asker", "i'm an employer", "employer", false}, // alias inside a sentence
		{"asker", "3", "", false},
		{"asker", "both worker and employer", "", false}, // two options mentioned: not a guess
		{"in_canada", "yes", "yes", false},
		{"in_canada", "Y", "yes", false},
		{"in_canada", "oui", "yes", false},
		{"in_canada", "Non", "no", false},
		{"in_canada", "n", "no", false},
		{"in_canada", "nope", "no", false},
		{"in_canada", "Yes, I am.", "yes", false},
		{"in_canada", "no, not yet", "no", false},
		{"in_canada", "oui bien sûr", "yes", false},
		{"in_canada", "1", "yes", false},
		{"in_canada", "2", "no", false},
		{"in_canada", "no idea", "unknown", false}, // "I don't know" is an answer: the fact stays unknown
		{"in_canada", "not sure", "unknown", false},
		{"in_canada", "maybe", "unknown", false},
		{"in_canada", "What counts as being in Canada?", "", true},
		{"in_canada", "Is a visitor record enough", "", true},
		{"teer", "1", "1", false}, // the exact value wins over option number 1 (TEER 0)
		{"teer", "0", "0", false},
		{"teer", "5", "5", false},
		{"teer", "7", "unknown", false}, // option 7
		{"teer", "TEER 2", "2", false},
		{"teer", "teer 3 I think", "3", false},
		{"teer", "I don't know", "unknown", false},
		{"teer", "not sure", "unknown", false},
		{"teer", "unknown", "unknown", false},
		{"teer", "TEER 0: management", "0", false},
		{"teer", "FEER 1 : diplôme universitaire en général", "1", false},
		{"teer", "8", "", false},
		{"teer", "What is a TEER?", "", true},
		{"role", "executive_manager", "executive_manager", false},
		{"role", "executive manager", "executive_manager", false},
		{"role", "Specialized knowledge", "specialized_knowledge", false},
		{"role", "I'll be a manager", "executive_manager", false},
		{"role", "other", "other", false},
		{"spouse", "no", "none", false},
		{"spouse", "none", "none", false},
		{"spouse", "skilled_worker", "skilled_worker", false},
		{"spouse", "she is doing a PhD", "graduate_student", false},
		{"spouse", "graduate student", "graduate_student", false},
		{"spouse", "student", "", false}, // which kind of student? ask again
		{"work_kind", "own_business", "own_business", false},
		{"work_kind", "I'm a postdoc researcher", "academic", false},
		{"work_kind", "5", "own_business", false},
		{"work_kind", "", "", false},
	}
	for _, c := range cases {
		f := r.Fact(c.fact)
		got, ok, q := matchChoice(f, c.in)
		if c.want == "" {
			if ok {
				t.Errorf("%s %q: accepted as %q, want a re-ask", c.fact, c.in, got)
			}
		} else if !ok || got != c.want {
			t.Errorf("%s %q = %q (ok %v), want %q", c.fact, c.in, got, ok, c.want)
		}
		if q != c.question {
			t.Errorf("%s %q: question = %v, want %v", c.fact, c.in, q, c.question)
		}
	}
}

func TestAgeAnswers(t *testing.T) {
	t.Parallel()
	r, _ := shippedRules(t)
	age := r.Fact("age")
	cases := []struct {
		in, want string
		question bool
	}{
		{"32", "32", false},
		{"I'm 32", "32", false},
		{"32 years old", "32", false},
		{"j'ai 29 ans", "29", false},
		{" 018 ", "18", false},
		{"32.0", "32", false},
		{"32,5 ans", "32", false},
		{"0", "", false},
		{"3", "", false},
		{"150", "", false},
		{"-5", "", false},
		{"thirty", "30", false},
		{"between 30 and 35", "", false},
		{"99999999999999999999999", "", false},
		{"How old do I have to be for IEC?", "", true},
	}
	for _, c := range cases {
		got, ok, q := matchNumber(age, c.in)
		if c.want == "" && ok || c.want != "" && (!ok || got != c.want) {
			t.Errorf("age %q = %q (ok %v), want %q", c.in, got, ok, c.want)
		}
		if q != c.question {
			t.Errorf("age %q: question = %v, want %v", c.in, q, c.question)
		}
	}
}

func TestResolveCountry(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in    string
		codes string // comma-separated; "" = not resolved
		cands string // candidates offered instead
	}{
		{"Ireland", "IE", ""},
		{"irish", "IE", ""},
		{"IE", "IE", ""},
		{"ie", "IE", ""},
		{"IRL", "IE", ""},
		{"Republic of Ireland", "IE", ""},
		{"USA", "US", ""},
		{"U.S.A.", "US", ""},
		{"US", "US", ""},
		{"United States", "US", ""},
		{"United States of America", "US", ""},
		{"American", "US", ""},
		{"UK", "GB", ""},
		{"Britain", "GB", ""},
		{"Great Britain", "GB", ""},
		{"British", "GB", ""},
		{"Scottish", "GB", ""},
		{"Viet Nam", "VN", ""},
		{"Vietnam", "VN", ""},
		{"South Korea", "KR", ""},
		{"Korea, Republic of", "KR", ""},
		{"Korean", "KR", ""},
		{"North Korea", "KP", ""},
		{"Mexique", "MX", ""},
		{"Allemagne", "DE", ""},
		{"allemande", "DE", ""},
		{"États-Unis", "US", ""},
		{"Etats Unis", "US", ""},
		{"française", "FR", ""},
		{"Côte d’Ivoire", "CI", ""},
		{"Ivory Coast", "CI", ""},
		{"Türkiye", "TR", ""},
		{"Turkey", "TR", ""},
		{"Czech Republic", "CZ", ""},
		{"Holland", "NL", ""},
		{"Dutch", "NL", ""},
		{"Filipino", "PH", ""},
		{"Philippines", "PH", ""},
		{"the Philippines", "PH", ""},
		{"Honduran", "HN", ""},
		{"Nigerian", "NG", ""},
		{"Nigerien", "NE", ""},
		{"Brazilian", "BR", ""},
		{"Indian", "IN", ""},
		{"India", "IN", ""},
		{"Trinidad and Tobago", "TT", ""},
		{"Trinidad & Tobago", "TT", ""},
		{"Bosnia and Herzegovina", "BA", ""},
		{"Saint Lucia", "LC", ""},
		{"St. Lucia", "LC", ""},
		{"Hong Kong", "HK", ""},
		{"Kosovo", "XK", ""},
		{"I'm a citizen of India", "IN", ""},
		{"je suis de nationalité mexicaine", "MX", ""},
		{"I am Irish", "IE", ""},
		{"Irish and British", "IE,GB", ""},
		{"Canada, France", "CA,FR", ""},
		{"French / Canadian", "FR,CA", ""},
		{"IN", "", "IN"},
		{"it", "", "IT"},
		{"no", "", "NO"},
		{"Congo", "", "CG,CD"},
		{"Congolese", "", "CD,CG"},
		{"Guinea", "", "GN,GW,GQ,PG"},
		{"Dominican", "DO", ""},
		{"Dominica", "DM", ""},
		{"Irland", "", "IE"},
		{"Germny", "", "DE"},
		{"Narnia", "", ""},
		{"", "", ""},
		{"!!!", "", ""},
	}
	for _, c := range cases {
		r := ResolveCountry(c.in)
		if got := strings.Join(r.Codes, ","); got != c.codes {
			t.Errorf("%q: codes %q, want %q", c.in, got, c.codes)
		}
		got := append([]string(nil), r.Candidates...)
		want := strings.Split(c.cands, ",")
		if c.cands == "" {
			want = nil
		}
		if !sameSet(got, want) {
			t.Errorf("%q: candidates %v, want %v", c.in, got, want)
		}
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !contains(b, x) {
			return false
		}
	}
	return true
}

func TestCountryTableCoversISO(t *testing.T) {
	t.Parallel()
	tb := countriesTable()
	if n := len(tb.list); n < 249 {
		t.Fatalf("country table has %d entries, want all 249 ISO 3166-1 countries", n)
	}
	for _, c := range tb.list {
		if len(c.Alpha2) != 2 || len(c.Alpha3) != 3 || c.Name == "" || c.NameFR == "" {
			t.Errorf("incomplete entry %+v", c)
		}
		// Every country's own name resolves to it (unless shared, like Guinea).
		r := ResolveCountry(c.Name)
		if len(r.Codes) == 1 && r.Codes[0] != c.Alpha2 {
			t.Errorf("%q resolves to %v, want %s", c.Name, r.Codes, c.Alpha2)
		}
		if len(r.Codes) == 0 && !contains(r.Candidates, c.Alpha2) {
			t.Errorf("%q does not resolve to %s: %+v", c.Name, c.Alpha2, r)
		}
		if r := ResolveCountry(c.Alpha3); !contains(r.Codes, c.Alpha2) && !contains(r.Candidates, c.Alpha2) {
			t.Errorf("alpha-3 %s does not resolve to %s", c.Alpha3, c.Alpha2)
		}
	}
}

func TestStartRequests(t *testing.T) {
	t.Parallel()
	yes := map[string]string{
		"check my eligibility":                   "en",
		"Check my eligibility please":            "en",
		"Hi, can you check my eligibility?":      "en",
		"am I eligible?":                         "en",
		"Am I eligible for a work permit?":       "en",
		"which permit can I get":                 "en",
		"What work permits could I apply for?":   "en",
		"I want to check my eligibility":         "en",
		"eligibility check":                      "en",
		"vérifier mon admissibilité":             "fr",
		"Je voudrais vérifier mon admissibilité": "fr",
		"suis-je admissible ?":                   "fr",
		"Quel permis puis-je obtenir ?":          "fr",
		"est-ce que je suis admissible":          "fr",
	}
	for in, lang := range yes {
		if ok, l := IsStartRequest(in); !ok || l != lang {
			t.Errorf("%q: start=%v lang=%q, want a start in %s", in, ok, l, lang)
		}
	}
	for _, in := range []string{
		"am I eligible for a PGWP?",
		"Am I eligible for IEC if I'm 36?",
		"what is the eligibility for the spousal open work permit",
		"how do I check the status of my application",
		"suis-je admissible au PGWP ?",
		"eligibility of my spouse",
		"I am eligible",
		"",
		strings.Repeat("check my eligibility ", 20),
	} {
		if ok, _ := IsStartRequest(in); ok {
			t.Errorf("%q started the dialogue", in)
		}
	}
}

func TestControlWords(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"back": ctlBack, "Go back": ctlBack, "retour": ctlBack, "précédent": ctlBack,
		"restart": ctlRestart, "Start over": ctlRestart, "recommencer": ctlRestart,
		"cancel": ctlCancel, "STOP": ctlCancel, "annuler": ctlCancel, "arrêter": ctlCancel,
		"no": "", "backpack": "", "cancel my permit?": "",
	} {
		if got := controlWord(in); got != want {
			t.Errorf("controlWord(%q) = %q, want %q", in, got, want)
		}
	}
}
