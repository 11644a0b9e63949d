package dialogue

import (
	"strings"
	"testing"
)

func TestCountriesIn(t *testing.T) {
	t.Parallel()
	for q, want := range map[string]string{
		"what is the IEC age limit if I'm Irish":     "IE",
		"je suis française, 29 ans, PVT ?":           "FR",
		"working holiday in Canada for Australians":  "AU",
		"Can a Mexican or an American use CUSMA?":    "MX US",
		"is it different in Quebec":                  "",
		"can I work in Canada without a permit":      "",
		"I am in Canada, is it my turn":              "",
		"I speak French, can I do a working holiday": "",
		"je parle français et je suis belge":         "BE",
		"can a US citizen use CUSMA?":                "US",
		"can you help us with CUSMA?":                "",
		"UK passport, which agreement covers me?":    "GB",
		"🇮🇪 IEC age?":                                "IE",
		"🇫🇷🇨🇦 PVT":                                   "FR",
		"🇺🇸 or 🇲🇽, CUSMA?":                           "US MX",
		"🇽🇽 and 🇦 alone":                             "",
	} {
		if got := strings.Join(CountriesIn(q), " "); got != want {
			t.Errorf("CountriesIn(%q) = %q, want %q", q, got, want)
		}
	}
}

func TestCountryLeadUsesTheDialoguesTable(t *testing.T) {
	t.Parallel()
	r, b := shippedRules(t)
	iecEN, iecFR := b.Article("en", "iec-overview"), b.Article("fr", "iec-overview")
	cases := []struct {
		lang, id, q string
		want        []string
	}{
		{"en", "iec-overview", "what is the IEC age limit if I'm Irish", []string{"Ireland: IEC ages 18–35"}},
		{"fr", "iec-overview", "je suis française, 29 ans, PVT ?", []string{"France : EIC de 18 à 35 ans", "À 29 ans, vous êtes dans la limite"}},
		{"en", "iec-overview", "I'm Icelandic and 31 years old, can I do IEC?", []string{"Iceland: IEC ages 18–30", "At 31, you are outside the limit"}},
		{"en", "iec-overview", "working holiday for Australians", []string{"Categories: Working Holiday, Young Professionals, International Co-op (Internship)"}},
		{"en", "iec-overview", "I'm Brazilian, can I do a working holiday?", []string{"Brazil has no International Experience Canada (IEC) arrangement"}},
		{"en", "fta-overview", "I'm Mexican, does a trade agreement cover me?", []string{"Mexico: citizens are covered by CUSMA (Canada-United States-Mexico Agreement), CPTPP"}},
		{"fr", "fta-overview", "je suis irlandaise, un accord de libre-échange me couvre ?", []string{"Irlande : les citoyens sont couverts par AECG et ACCRU."}},
		{"en", "fta-overview", "I'm Indian, which FTA covers me?", []string{"India: none of the free trade agreements described here covers its citizens"}},
	}
	for _, c := range cases {
		got := CountryLead(r, b, c.lang, b.Article(c.lang, c.id), c.q)
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s %q: lead %q lacks %q", c.lang, c.q, got, w)
			}
		}
	}
	// The ages come from facts.yaml through the dialogue's group: the same number.
	if r.Groups["iec"].Countries["IE"] != 35 || b.Facts.Fact("iec.age_max").Values["IE"] != "35" {
		t.Error("the dialogue's IEC table and the facts disagree")
	}
	if got := CountryLead(r, b, "en", iecEN, "what is the age limit for IEC"); got != "" {
		t.Errorf("lead without a country: %q", got)
	}
	if got := CountryLead(r, b, "fr", iecFR, "pvt pour les français et les belges"); got != "" {
		t.Errorf("lead with two countries: %q", got)
	}
	if got := CountryLead(r, b, "en", b.Article("en", "pgwp"), "I'm Irish, can I get a PGWP?"); got != "" {
		t.Errorf("lead on an article without country data: %q", got)
	}
}
