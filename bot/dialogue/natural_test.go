package dialogue

import (
	"fmt"
	"strings"
	"testing"
)

// The natural-answer tables: how people answer each kind of question, in
// English and French, and the value each answer must give ("" = not
// understood: the question is asked again).

var yesAnswers = []string{
	"yes", "Yes.", "YES!", "y", "yeah", "Yeah!", "yep", "yup", "ya", "yea", "sure", "sure thing", "of course",
	"Of course!", "correct", "that's right", "right", "true", "definitely", "absolutely", "certainly", "indeed",
	"I do", "I am", "I have", "yes I do", "yes, I am", "yes I have", "I think so", "I think so, they sent me an email offer",
	"I believe so", "I guess so", "probably", "yeah they sent me a contract last week", "yep, signed it yesterday",
	"yes please", "ok yes", "uh huh", "for sure", "totally", "yes indeed", "absolutely yes", "oh yes",
	"yes, in Toronto", "Yes — since last year", "yes!!", "Yes :)", "yes, of course", "affirmative",
	"oui", "Oui.", "OUI", "ouais", "ouaip", "ouep", "bien sûr", "Bien sûr !", "tout à fait", "exact", "exactement",
	"vrai", "absolument", "certainement", "évidemment", "effectivement", "je pense que oui", "je crois que oui",
	"oui bien sûr", "oui, j'en ai une", "c'est ça", "oui c'est ça", "oui tout à fait", "probablement",
	"sans doute", "en effet", "mais oui", "ben oui", "bah oui", "oui, depuis l'an dernier", "oui, à Montréal",
	"oui oui", "Oui !", "si",
}

var noAnswers = []string{
	"no", "No.", "NO!", "n", "nope", "Nope.", "nah", "naw", "not really", "not at all", "not yet",
	"not yet, I'm still in Texas", "no, not yet", "never", "none", "no way", "I don't", "I do not", "I'm not",
	"I am not", "I haven't", "I have not", "I didn't", "it isn't", "it's not", "we don't", "they don't",
	"I don't think so", "don't think so", "probably not", "unfortunately not", "sadly no", "no sorry",
	"no thanks", "nothing yet", "absolutely not", "definitely not", "of course not", "not now", "not anymore",
	"no longer", "no, I'm still looking", "nope, still searching", "no :(", "No — maybe next year",
	"non", "Non.", "NON", "nan", "pas du tout", "pas vraiment", "pas encore", "non pas encore", "toujours pas",
	"pas pour l'instant", "pas pour le moment", "pas maintenant", "jamais", "aucune", "je ne pense pas",
	"je crois pas", "je ne crois pas", "malheureusement non", "non merci", "rien", "non non", "ben non",
	"bah non", "certainement pas", "absolument pas", "non, je cherche encore", "pas encore, je suis en France",
	"faux", "négatif",
}

var unknownAnswers = []string{
	"I don't know", "i dont know", "don't know", "dunno", "idk", "IDK", "no idea", "No idea.", "not sure",
	"Not sure.", "I'm not sure", "unsure", "not certain", "no clue", "can't say", "hard to say", "maybe",
	"perhaps", "I have no idea", "I don't remember", "skip", "pass", "I'd rather not say", "not sure what that means",
	"je ne sais pas", "je sais pas", "sais pas", "chais pas", "jsp", "aucune idée", "pas sûr", "pas sûre",
	"pas certain", "je ne suis pas sûr", "peut-être", "je n'en sais rien", "passer", "je passe", "bof",
}

// variants returns the answer as typed in a few everyday ways.
func variants(s string) []string {
	return []string{s, strings.ToLower(s), strings.ToUpper(s), "  " + s + "  "}
}

func TestNaturalYesNoUnknown(t *testing.T) {
	t.Parallel()
	r, _ := shippedRules(t)
	n := 0
	for _, fact := range []string{"in_canada", "job_offer", "french", "short_visit", "listed_profession", "exceptional", "canadian_graduate"} {
		f := r.Fact(fact)
		for want, list := range map[string][]string{"yes": yesAnswers, "no": noAnswers, Unknown: unknownAnswers} {
			for _, base := range list {
				for _, in := range variants(base) {
					n++
					got, ok, q := matchChoice(f, in)
					if !ok || got != want || q {
						t.Errorf("%s %q = %q (ok %v, question %v), want %q", fact, in, got, ok, q, want)
					}
				}
			}
		}
	}
	t.Logf("%d yes/no/don't-know answers checked", n)
}

// Answers that are not yes, no or "don't know" are not guessed.
func TestNaturalYesNoNotGuessed(t *testing.T) {
	t.Parallel()
	r, _ := shippedRules(t)
	f := r.Fact("job_offer")
	for _, in := range []string{"software developer", "banana", "Toronto", "hmm", "the weather is nice", "42", "lol", "", "asdf", "développeur"} {
		if got, ok, _ := matchChoice(f, in); ok {
			t.Errorf("job_offer %q accepted as %q", in, got)
		}
	}
	// Real questions go to the FAQ, then the question is asked again.
	for _, in := range []string{"What counts as a job offer?", "Does a verbal offer count?", "how do I get a job offer in canada", "est-ce qu'un contrat compte ?"} {
		if _, ok, q := matchChoice(f, in); ok || !q {
			t.Errorf("job_offer %q: ok %v question %v, want a question", in, ok, q)
		}
	}
}

// In Canada: a place answers the question.
func TestNaturalInCanadaPlaces(t *testing.T) {
	t.Parallel()
	r, _ := shippedRules(t)
	f := r.Fact("in_canada")
	cases := map[string]string{
		"I'm in Toronto": "yes", "in Vancouver right now": "yes", "je suis à Montréal": "yes", "I live in Calgary": "yes",
		"already here": "yes", "au Canada": "yes", "Moncton": "yes", "in Ontario": "yes",
		"I'm in Mexico": "no", "still in India": "no", "je suis en France": "no", "abroad": "no", "outside Canada": "no",
		"back home in Ireland": "no", "à l'étranger": "no", "I live in the Philippines": "no", "in the US": "no",
		"no, in the states": "no", "aux États-Unis": "no",
	}
	for in, want := range cases {
		if got, ok, _ := matchChoice(f, in); !ok || got != want {
			t.Errorf("in_canada %q = %q (ok %v), want %q", in, got, ok, want)
		}
	}
}

// Number words, independent of the parser: English and French spellings.
var (
	enUnits = []string{"", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
		"twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"}
	enTens  = []string{"", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"}
	frUnits = []string{"", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix", "onze",
		"douze", "treize", "quatorze", "quinze", "seize", "dix-sept", "dix-huit", "dix-neuf"}
	frTens = []string{"", "", "vingt", "trente", "quarante", "cinquante", "soixante"}
)

func enWords(n int, sep string) string {
	if n < 20 {
		return enUnits[n]
	}
	if n%10 == 0 {
		return enTens[n/10]
	}
	return enTens[n/10] + sep + enUnits[n%10]
}

func frWords(n int) string {
	switch {
	case n < 20:
		return frUnits[n]
	case n < 70:
		t, u := n/10, n%10
		switch u {
		case 0:
			return frTens[t]
		case 1:
			return frTens[t] + " et un"
		}
		return frTens[t] + "-" + frUnits[u]
	case n < 80:
		if n == 71 {
			return "soixante et onze"
		}
		return "soixante-" + frUnits[n-60]
	default:
		if n == 80 {
			return "quatre-vingts"
		}
		return "quatre-vingt-" + frUnits[n-80]
	}
}

func TestNaturalAges(t *testing.T) {
	t.Parallel()
	r, _ := shippedRules(t)
	f := r.Fact("age")
	n := 0
	check := func(in string, want int) {
		t.Helper()
		n++
		got, ok, _ := matchNumber(f, in)
		if !ok || got != fmt.Sprint(want) {
			t.Errorf("age %q = %q (ok %v), want %d", in, got, ok, want)
		}
	}
	for age := 18; age <= 99; age++ {
		check(enWords(age, " "), age)
		check(enWords(age, "-"), age)
		check("I'm "+enWords(age, "-"), age)
		check(frWords(age), age)
		check("j'ai "+frWords(age)+" ans", age)
		if age%3 == 0 {
			check(fmt.Sprintf("%d years old", age), age)
			check(fmt.Sprintf("I am %d", age), age)
			check(fmt.Sprintf("%d ans", age), age)
			check(fmt.Sprintf("age: %d", age), age)
			check(fmt.Sprintf("I'm %d, turning %s soon", age, "older"), age)
		}
	}
	for _, in := range []string{"I'd rather not say", "don't know", "je ne sais pas"} {
		if got, ok, _ := matchNumber(f, in); !ok || got != Unknown {
			t.Errorf("age %q = %q, want unknown", in, got)
		}
	}
	for _, in := range []string{"between 30 and 35", "three", "a hundred and fifty", "I'm 32 and my wife is 30", "old enough"} {
		if got, ok, _ := matchNumber(f, in); ok {
			t.Errorf("age %q accepted as %q", in, got)
		}
	}
	t.Logf("%d ages checked", n)
}

func TestNaturalCountries(t *testing.T) {
	t.Parallel()
	type c struct{ name, demonymEN, nameFR, demonymFR, code string }
	countries := []c{
		{"Ireland", "Irish", "Irlande", "irlandais", "IE"}, {"Mexico", "Mexican", "Mexique", "mexicain", "MX"},
		{"India", "Indian", "Inde", "indien", "IN"}, {"France", "French", "France", "française", "FR"},
		{"Germany", "German", "Allemagne", "allemand", "DE"}, {"Japan", "Japanese", "Japon", "japonais", "JP"},
		{"Ukraine", "Ukrainian", "Ukraine", "ukrainien", "UA"}, {"Brazil", "Brazilian", "Brésil", "brésilien", "BR"},
		{"Nigeria", "Nigerian", "Nigéria", "nigérian", "NG"}, {"Philippines", "Filipino", "Philippines", "philippin", "PH"},
		{"Chile", "Chilean", "Chili", "chilien", "CL"}, {"Peru", "Peruvian", "Pérou", "péruvien", "PE"},
		{"Colombia", "Colombian", "Colombie", "colombien", "CO"}, {"Morocco", "Moroccan", "Maroc", "marocain", "MA"},
		{"Australia", "Australian", "Australie", "australien", "AU"}, {"Italy", "Italian", "Italie", "italien", "IT"},
		{"Spain", "Spanish", "Espagne", "espagnol", "ES"}, {"Vietnam", "Vietnamese", "Viêt Nam", "vietnamien", "VN"},
		{"Poland", "Polish", "Pologne", "polonais", "PL"}, {"Panama", "Panamanian", "Panama", "panaméen", "PA"},
		{"Bangladesh", "Bangladeshi", "Bangladesh", "bangladais", "BD"}, {"Jamaica", "Jamaican", "Jamaïque", "jamaïcain", "JM"},
		{"Honduras", "Honduran", "Honduras", "hondurien", "HN"}, {"Nepal", "Nepalese", "Népal", "népalais", "NP"},
		{"Portugal", "Portuguese", "Portugal", "portugais", "PT"}, {"Belgium", "Belgian", "Belgique", "belge", "BE"},
	}
	n := 0
	for _, co := range countries {
		for _, in := range []string{
			co.name, co.demonymEN, "I'm " + co.demonymEN, "I am a citizen of " + co.name, "citizen of " + co.name,
			"my passport is " + co.demonymEN, "I'm " + co.demonymEN + ", 30 years old", "I'm from " + co.name + " but live in Dubai",
			co.nameFR, "je suis " + co.demonymFR, "nationalité " + co.demonymFR, "j'ai la citoyenneté de " + co.nameFR,
		} {
			n++
			st := &state{}
			got, _, _, q := readCountry(st, in, false)
			if got != co.code || q {
				t.Errorf("citizenship %q = %q (question %v), want %s", in, got, q, co.code)
			}
		}
	}
	for _, in := range []string{"I don't know", "je ne sais pas", "not sure"} {
		if got, _, _, _ := readCountry(&state{}, in, false); got != Unknown {
			t.Errorf("citizenship %q = %q, want unknown", in, got)
		}
	}
	t.Logf("%d country answers checked", n)
}

func TestNaturalChoices(t *testing.T) {
	t.Parallel()
	r, _ := shippedRules(t)
	cases := []struct{ fact, in, want string }{
		// asker
		{"asker", "I'm the worker", "worker"}, {"asker", "it's for me", "worker"}, {"asker", "I want to work in Canada", "worker"},
		{"asker", "myself", "worker"}, {"asker", "je suis le travailleur", "worker"}, {"asker", "c'est pour moi", "worker"},
		{"asker", "we are hiring", "employer"}, {"asker", "I'm an employer", "employer"}, {"asker", "HR at a company in Ottawa", "employer"},
		{"asker", "we want to hire someone", "employer"}, {"asker", "je suis employeur", "employer"}, {"asker", "nous voulons embaucher", "employer"},
		{"asker", "recruiter", "employer"}, {"asker", "employeur", "employer"},
		// teer
		{"teer", "TEER 1", "1"}, {"teer", "teer one", "1"}, {"teer", "it's a TEER 3 job", "3"}, {"teer", "FEER 2", "2"},
		{"teer", "FEER deux", "2"}, {"teer", "teer zero", "0"}, {"teer", "level 4", "4"}, {"teer", "TEER5", ""},
		{"teer", "management", "0"}, {"teer", "it needs a university degree", "1"}, {"teer", "I'm a cook", "3"},
		{"teer", "high school", "4"}, {"teer", "no idea what TEER is", Unknown}, {"teer", "not sure what TEER means", Unknown},
		{"teer", "je ne sais pas", Unknown}, {"teer", "catégorie 1", "1"}, {"teer", "c'est un FEER 0", "0"},
		{"teer", "software developer", "1"}, {"teer", "electrician", "2"}, {"teer", "dunno", Unknown},
		// role
		{"role", "I'll be a manager", "executive_manager"}, {"role", "director of operations", "executive_manager"},
		{"role", "I'm a specialist in our platform", "specialized_knowledge"}, {"role", "specialized knowledge", "specialized_knowledge"},
		{"role", "just a regular employee", "other"}, {"role", "something else", "other"}, {"role", "gestionnaire", "executive_manager"},
		{"role", "spécialiste", "specialized_knowledge"}, {"role", "autre chose", "other"}, {"role", "not sure", Unknown},
		{"role", "je ne sais pas", Unknown}, {"role", "VP", "executive_manager"},
		// work_kind
		{"work_kind", "I want to open my own company", "own_business"}, {"work_kind", "start a business", "own_business"},
		{"work_kind", "I'm buying a business", "own_business"}, {"work_kind", "self-employed", "own_business"},
		{"work_kind", "je veux créer mon entreprise", "own_business"}, {"work_kind", "ouvrir une entreprise", "own_business"},
		{"work_kind", "a normal job", "standard"}, {"work_kind", "any job", "standard"}, {"work_kind", "un emploi normal", "standard"},
		{"work_kind", "I'm a pastor", "religious"}, {"work_kind", "work at a church", "religious"}, {"work_kind", "missionnaire", "religious"},
		{"work_kind", "volunteer at a charity", "charitable"}, {"work_kind", "humanitarian work", "charitable"}, {"work_kind", "bénévolat", "charitable"},
		{"work_kind", "postdoc at McGill", "academic"}, {"work_kind", "visiting professor", "academic"}, {"work_kind", "chercheuse", "academic"},
		{"work_kind", "other", "other"}, {"work_kind", "something else", "other"}, {"work_kind", "none of these", "other"},
		{"work_kind", "autre chose", "other"}, {"work_kind", "not sure", Unknown}, {"work_kind", "je ne sais pas", Unknown},
		// visit_kind
		{"visit_kind", "a trade fair", "business_visitor"}, {"visit_kind", "client meetings", "business_visitor"},
		{"visit_kind", "a 5-day trade show in Toronto", "business_visitor"}, {"visit_kind", "after-sales service", "business_visitor"},
		{"visit_kind", "un salon professionnel", "business_visitor"}, {"visit_kind", "des réunions", "business_visitor"},
		{"visit_kind", "hands-on work for a client", "short_work"}, {"visit_kind", "a short consulting project", "short_work"},
		{"visit_kind", "installation", "short_work"}, {"visit_kind", "not sure", Unknown},
		// spouse
		{"spouse", "I'm single", "none"}, {"spouse", "no spouse", "none"}, {"spouse", "she is doing a PhD", "graduate_student"},
		{"spouse", "my husband is a software engineer, TEER 1", "skilled_worker"}, {"spouse", "college student", "other_student"},
		{"spouse", "célibataire", "none"}, {"spouse", "not sure", Unknown}, {"spouse", "nope", "none"},
	}
	n := 0
	for _, c := range cases {
		for _, in := range append(variants(c.in), c.in+".", c.in+"!") {
			n++
			got, ok, _ := matchChoice(r.Fact(c.fact), in)
			if c.want == "" {
				if ok {
					t.Errorf("%s %q accepted as %q", c.fact, in, got)
				}
				continue
			}
			if !ok || got != c.want {
				t.Errorf("%s %q = %q (ok %v), want %q", c.fact, in, got, ok, c.want)
			}
		}
	}
	t.Logf("%d option answers checked", n)
}

// A hedge before a real answer counts as that answer.
func TestNaturalHedgedAnswers(t *testing.T) {
	t.Parallel()
	r, _ := shippedRules(t)
	cases := []struct{ fact, in, want string }{
		{"work_kind", "idk, any job really", "standard"}, {"work_kind", "not sure, maybe my own business", "own_business"},
		{"job_offer", "not sure, probably yes", "yes"}, {"teer", "no idea, maybe TEER 2", "2"},
		{"in_canada", "je ne sais pas, peut-être", Unknown}, {"teer", "I don't know", Unknown},
		{"spouse", "not sure, she is doing a PhD", "graduate_student"},
	}
	for _, c := range cases {
		if got, ok, _ := matchChoice(r.Fact(c.fact), c.in); !ok || got != c.want {
			t.Errorf("%s %q = %q (ok %v), want %q", c.fact, c.in, got, ok, c.want)
		}
	}
}

// "us" and "uk" are countries only when written as such.
func TestCountriesInTextCodes(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"I have a US passport": "US", "U.S. citizen": "US", "UK passport holder": "GB",
		"please help us, I'm from Brazil": "BR", "tell us more": "", "je suis marocain": "MA",
	} {
		got := strings.Join(countriesInText(in), ",")
		if got != want {
			t.Errorf("%q = %q, want %q", in, got, want)
		}
	}
}

// Bad input never crashes the readers: odd, long and mixed answers.
func TestNaturalOddInput(t *testing.T) {
	t.Parallel()
	r, _ := shippedRules(t)
	odd := []string{"", " ", "\x00", "🙂", "🇮🇪", strings.Repeat("yes ", 500), strings.Repeat("trente ", 300),
		"quatre vingt vingt vingt", "et et et", "and and", "one one one", "?", "??", "!!!", "-1", "1e308", "NaN",
		"\u202eyes", "ÿes", "no\nyes", "oui\tnon", strings.Repeat("é", 10000), "dix dix dix", "soixante soixante"}
	for _, in := range odd {
		for _, f := range r.Facts {
			switch f.Type {
			case TypeChoice:
				matchChoice(f, in)
			case TypeNumber:
				if v, ok, _ := matchNumber(f, in); ok && v != Unknown {
					if n := parseNumbers(normalize(v)); len(n) != 1 || n[0] < f.Min || n[0] > f.Max {
						t.Errorf("%s %q = %q out of range", f.Name, in, v)
					}
				}
			case TypeCountry:
				readCountry(&state{}, in, false)
			}
		}
		countriesInText(in)
		afterUnknown(normalize(in))
	}
}

func BenchmarkNaturalAnswer(b *testing.B) {
	r, _ := shippedRules(b)
	wk, job, age := r.Fact("work_kind"), r.Fact("job_offer"), r.Fact("age")
	b.ReportAllocs()
	for b.Loop() {
		matchChoice(wk, "I want to open my own company in Toronto")
		matchChoice(job, "I think so, they sent me an email offer")
		matchNumber(age, "j'ai quatre-vingt-dix-neuf ans")
		readCountry(&state{}, "I'm from Mexico but live in Dubai", false)
	}
}
