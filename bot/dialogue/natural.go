package dialogue

import (
	"regexp"
	"strconv"
	"strings"
)

var (
	usRE = regexp.MustCompile(`\bU\.?S\.?(?:A\.?)?\b`)
	ukRE = regexp.MustCompile(`\bU\.?K\.?\b`)
)

// Natural answers: the everyday ways people say yes, no, "I don't know", a
// number or a country, in English and French.

// unknownPhrases say "I don't know" (or "skip"): the fact stays unknown.
var unknownPhrases = []string{
	"i don t know", "i dont know", "don t know", "dont know", "do not know", "dunno", "idk", "no idea", "not sure",
	"unsure", "i m not sure", "not certain", "uncertain", "no clue", "can t say", "cannot say", "hard to say",
	"i have no idea", "i don t remember", "don t remember", "not known", "unknown", "maybe", "perhaps",
	"not decided", "undecided", "no sure", "i wouldn t know", "skip", "skip it", "skip this", "pass", "next question",
	"prefer not to say", "rather not say", "not sure what",
	"je ne sais pas", "je sais pas", "sais pas", "j sais pas", "chais pas", "jsp", "aucune idee", "pas sur",
	"pas sure", "pas certain", "pas certaine", "je ne suis pas sur", "je ne suis pas sure", "peut etre",
	"inconnu", "aucune id", "je ne sais plus", "je passe", "passer", "sauter", "question suivante", "je prefere ne pas dire",
	"ne sais pas", "j en sais rien", "je n en sais rien", "bof",
}

// yesPhrases and noPhrases are everyday yes and no, matched as whole
// answers or at the start of an answer.
var (
	yesPhrases = []string{
		"y", "yes", "yeah", "yep", "yup", "ya", "yea", "yah", "yess", "yes yes", "sure", "sure thing", "of course",
		"ofc", "correct", "right", "that s right", "true", "affirmative", "definitely", "absolutely", "certainly",
		"indeed", "exactly", "i do", "i am", "i have", "i did", "it is", "we do", "we are", "we have", "they do",
		"they are", "they have", "he does", "she does", "he is", "she is", "he has", "she has", "i think so",
		"i believe so", "i guess so", "i suppose so", "probably", "most likely", "likely", "yes please", "ok yes",
		"okay yes", "uh huh", "yes indeed", "for sure", "totally", "positive", "confirmed", "already", "i already have",
		"yes i do", "yes i am", "yes i have", "absolutely yes", "oh yes", "hell yes", "aye", "k yes",
		"oui", "o", "ouais", "ouaip", "ouep", "ouep", "bien sur", "tout a fait", "exact", "exactement", "vrai",
		"affirmatif", "si", "absolument", "oui oui", "certainement", "evidemment", "effectivement", "je pense que oui",
		"je crois que oui", "il me semble", "oui bien sur", "oui j en ai", "c est ca", "d accord oui", "carrement",
		"volontiers", "oui c est ca", "oui tout a fait", "probablement", "sans doute", "je pense", "je crois",
		"en effet", "mais oui", "bah oui", "ben oui", "oui madame", "oui monsieur",
	}
	noPhrases = []string{
		"n", "no", "nope", "nah", "naw", "no no", "not", "false", "negative", "never", "none", "no way", "not really",
		"not at all", "not yet", "no not yet", "not now", "not anymore", "no longer", "i don t", "i do not", "i m not",
		"i am not", "i haven t", "i have not", "i didn t", "i did not", "it isn t", "it is not", "it s not", "we don t",
		"we do not", "we aren t", "they don t", "they do not", "they aren t", "he doesn t", "she doesn t",
		"he isn t", "she isn t", "i don t think so", "i do not think so", "don t think so", "probably not",
		"unfortunately not", "sadly no", "sadly not", "unfortunately no", "no sorry", "sorry no", "nothing",
		"no thanks", "no thank you", "nop", "nada", "absolutely not", "definitely not", "of course not", "certainly not",
		"non", "nan", "nope", "pas du tout", "faux", "negatif", "jamais", "pas vraiment", "pas encore", "non pas encore",
		"toujours pas", "pas pour l instant", "pas pour le moment", "pas maintenant", "plus maintenant", "aucun", "aucune",
		"je ne pense pas", "je crois pas", "je ne crois pas", "je pense pas", "malheureusement non", "malheureusement pas",
		"non merci", "rien", "non non", "nenni", "pas du tout non", "certainement pas", "absolument pas", "bah non", "ben non",
	}
	yesSet, noSet, unknownSet = setOf(yesPhrases), setOf(noPhrases), setOf(unknownPhrases)
)

func setOf(list []string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, s := range list {
		m[s] = true
	}
	return m
}

// isUnknownAnswer reports whether n (normalized) says "I don't know".
func isUnknownAnswer(n string) bool {
	if unknownSet[n] {
		return true
	}
	words := strings.Fields(n)
	if len(words) > 14 {
		return false
	}
	for _, p := range unknownPhrases {
		if len(p) > 3 && containsPhrase(n, p) {
			return true
		}
	}
	return false
}

// readYesNo reads an everyday yes or no: the whole answer, or its first
// words ("yeah, they sent me an email", "not yet, I'm still in Texas",
// "non, pas encore"). It does not guess from words further in.
func readYesNo(n string) (string, bool) {
	if yesSet[n] {
		return "yes", true
	}
	if noSet[n] {
		return "no", true
	}
	words := strings.Fields(n)
	if len(words) == 0 || len(words) > 25 {
		return "", false
	}
	for l := min(5, len(words)); l >= 1; l-- {
		head := strings.Join(words[:l], " ")
		// Longest head first, so "not yet" wins over "not" and "i don t think so" over "i don t".
		if noSet[head] {
			return "no", true
		}
		if yesSet[head] {
			if l < len(words) && (words[l] == "not" || words[l] == "no" || words[l] == "pas") {
				return "", false // "i am not", "i have no"... read by a longer no phrase or not at all
			}
			return "yes", true
		}
	}
	return "", false
}

// Number words, English and French, for ages and TEER levels.
var numberWords = map[string]int{
	"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
	"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
	"seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40,
	"fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
	"zéro": 0, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "sept": 7, "huit": 8,
	"neuf": 9, "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14, "quinze": 15, "seize": 16,
	"vingt": 20, "vingts": 20, "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60, "septante": 70,
	"huitante": 80, "octante": 80, "nonante": 90,
}

// parseNumbers returns the numbers written in n (normalized), in digits or
// in words ("thirty two", "thirty-two", "trente deux", "vingt et un",
// "soixante dix", "quatre vingt dix").
func parseNumbers(n string) []int {
	var out []int
	words := strings.Fields(n)
	for _, w := range words {
		switch w {
		case "hundred", "hundreds", "thousand", "cent", "cents", "mille":
			return nil // beyond what the dialogue asks: not guessed
		}
	}
	for i := 0; i < len(words); i++ {
		w := words[i]
		if d, err := strconv.Atoi(w); err == nil {
			out = append(out, d)
			continue
		}
		v, ok := numberWords[w]
		if !ok {
			continue
		}
		if (w == "un" || w == "une" || w == "one") && len(words) > 1 && !nextIsNumberWord(words, i) && i+1 < len(words) {
			continue // an article: "j'ai une offre", "one of them"
		}
		total := v
		j := i + 1
		for j < len(words) {
			x := words[j]
			if (x == "et" || x == "and") && j+1 < len(words) && total >= 20 && total%10 == 0 {
				if y, ok := numberWords[words[j+1]]; ok && y > 0 && y < 12 {
					total += y
					j += 2
				}
				break
			}
			y, ok := numberWords[x]
			if !ok {
				break
			}
			if total == 10 && y >= 7 && y <= 9 {
				total += y // dix-sept, dix-huit, dix-neuf
			} else if total == 4 && y == 20 {
				total = 80 // quatre-vingt(s)
			} else if total >= 20 && total%10 == 0 && y < 20 {
				total += y // thirty two, soixante dix, quatre vingt dix
			} else {
				break
			}
			j++
		}
		out = append(out, total)
		i = j - 1
	}
	return out
}

func nextIsNumberWord(words []string, i int) bool {
	if i+1 >= len(words) {
		return false
	}
	_, ok := numberWords[words[i+1]]
	return ok
}

// placesInCanada name Canada's provinces, territories and largest cities:
// "yes, in Toronto" answers "are you in Canada?".
var placesInCanada = []string{
	"canada", "ontario", "quebec", "british columbia", "alberta", "manitoba", "saskatchewan", "nova scotia",
	"new brunswick", "nouveau brunswick", "newfoundland", "terre neuve", "prince edward island", "pei", "yukon",
	"nunavut", "northwest territories", "toronto", "montreal", "vancouver", "calgary", "edmonton", "ottawa",
	"winnipeg", "halifax", "victoria", "quebec city", "ville de quebec", "hamilton", "kitchener", "waterloo",
	"london ontario", "saskatoon", "regina", "moncton", "fredericton", "st john s", "charlottetown", "whitehorse",
	"yellowknife", "iqaluit", "mississauga", "brampton", "surrey", "burnaby", "laval", "gatineau", "sherbrooke",
	"kelowna", "windsor", "oshawa", "markham", "vaughan", "richmond hill", "trois rivieres", "saguenay",
}

// countriesInText finds the countries named anywhere in an answer ("I'm
// from Mexico but live in Texas", "I'm Irish, 36 years old"), ignoring
// country codes that are also words. It returns nil when none or when a
// name is ambiguous.
func countriesInText(text string) []string {
	return scanCountries(text, false)
}

// scanCountries is the one reader of country names and demonyms in a text,
// longest phrase first (up to four words). A free question (question true)
// is read more strictly than an answer to "which country?": names shorter
// than four letters (codes) never count, and a demonym after a language cue
// is a language. In both, "us" and "uk" count only written as US or UK
// ("help us" is not the United States) and ambiguous names never count.
func scanCountries(text string, question bool) []string {
	t := countriesTable()
	words := strings.Fields(normalize(strings.ReplaceAll(text, "&", " and ")))
	var codes []string
	for i := 0; i < len(words); {
		matched := 0
		for l := min(4, len(words)-i); l >= 1; l-- {
			p := strings.Join(words[i:i+l], " ")
			if _, amb := ambiguousNames[p]; amb {
				continue
			}
			switch {
			case p == "us" || p == "uk":
				if p == "us" && !usRE.MatchString(text) || p == "uk" && !ukRE.MatchString(text) {
					continue
				}
			case question:
				if len(p) < 4 || wordCodes[p] || i > 0 && languageCue[words[i-1]] {
					continue // codes; "I speak French", "en français": a language, not a citizenship
				}
			case l == 1 && (len(p) <= 2 || stopWords[p]):
				continue // codes such as "in", "it", "me", "no" are words here
			}
			code, ok := preferredNames[p]
			if !ok {
				cs := t.index[p]
				if question && len(cs) == 0 && l == 1 && len(p) > 5 && strings.HasSuffix(p, "s") {
					cs = t.index[strings.TrimSuffix(p, "s")] // plural demonyms: Australians, Irlandaises
				}
				if len(cs) != 1 || wordCodes[p] {
					continue
				}
				code = cs[0]
			}
			if !contains(codes, code) {
				codes = append(codes, code)
			}
			matched = l
			break
		}
		i += max(matched, 1)
	}
	for _, c := range flagCodes(text) {
		if !contains(codes, c) {
			codes = append(codes, c)
		}
	}
	return codes
}

// flagCodes reads flag emoji (pairs of regional indicator symbols: 🇮🇪 is
// I E) as the ISO codes of the countries the table knows, in order.
func flagCodes(text string) []string {
	var codes []string
	var prev rune
	for _, r := range text {
		if r < 0x1F1E6 || r > 0x1F1FF {
			prev = 0
			continue
		}
		if prev == 0 {
			prev = r
			continue
		}
		code := string([]rune{'A' + prev - 0x1F1E6, 'A' + r - 0x1F1E6})
		prev = 0
		if _, ok := CountryByCode(code); ok && !contains(codes, code) {
			codes = append(codes, code)
		}
	}
	return codes
}

// stopWords are short words never read as a country inside a sentence.
var stopWords = setOf([]string{"can", "man", "per", "col", "est", "mali", "chad", "guy", "sur", "par", "nor", "and", "the", "bel", "ita", "esp"})

// mentionsPlaceInCanada reports whether n (normalized) names a place in Canada.
func mentionsPlaceInCanada(n string) bool {
	for _, p := range placesInCanada {
		if containsPhrase(n, p) {
			return true
		}
	}
	return false
}

// unknownAtStart reports whether n starts with (or is) "I don't know":
// "no idea" is unknown, "no, maybe next year" is no.
func unknownAtStart(n string) bool {
	for _, p := range unknownPhrases {
		if n == p || strings.HasPrefix(n, p+" ") {
			return true
		}
	}
	return false
}

// afterUnknown returns what follows a leading "I don't know" ("" when
// nothing does): the longest unknown phrase is removed.
func afterUnknown(n string) string {
	best := ""
	for _, p := range unknownPhrases {
		if (n == p || strings.HasPrefix(n, p+" ")) && len(p) > len(best) {
			best = p
		}
	}
	if best == "" {
		return ""
	}
	rest := strings.TrimSpace(strings.TrimPrefix(n, best))
	for _, filler := range []string{"but", "mais", "maybe", "probably", "really", "i guess", "i think", "je pense", "je crois"} {
		rest = strings.TrimSpace(strings.TrimPrefix(rest, filler+" "))
	}
	if len(strings.Fields(rest)) == 0 {
		return ""
	}
	return rest
}
