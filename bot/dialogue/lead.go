package dialogue

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/impbot/impbot/knowledge"
)

// CountriesIn finds the countries a free question names by a name or a
// demonym, in English or French ("if I'm Irish", "je suis française"). ISO
// codes are ignored here (too many are common words in a sentence) except a
// capitalised US or UK, and so are names shared by several countries, a
// demonym after a language cue ("I speak French") and Canada (questions name
// it all the time: it is never the asker's country).
func CountriesIn(text string) []string {
	var codes []string
	for _, c := range scanCountries(text, true) {
		if c != "CA" {
			codes = append(codes, c)
		}
	}
	return codes
}

// languageCue are words before a demonym that make it a language.
var languageCue = map[string]bool{
	"speak": true, "speaks": true, "speaking": true, "in": true, "parle": true, "parles": true, "parlez": true,
	"parler": true, "en": true, "francophone": true, "anglophone": true,
}

// ageRE reads an age stated in a question: "29 ans", "I'm 29", "29 years old", "age 29".
var ageRE = regexp.MustCompile(`(?i)\b(?:(\d{2})\s*(?:ans|an|years?|yrs?|yo|y/o)\b|(?:i'?m|i am|age|aged|agé|âgé|âgée|j'ai)\s+(\d{2})\b)`)

func statedAge(text string) int {
	m := ageRE.FindStringSubmatch(text)
	if m == nil {
		return 0
	}
	s := m[1]
	if s == "" {
		s = m[2]
	}
	n, _ := strconv.Atoi(s)
	if n < 15 || n > 99 {
		return 0
	}
	return n
}

// ftaLabels name the trade-agreement groups of eligibility.yaml in answers.
var ftaLabels = map[string]knowledge.Text{
	"cusma":       {"en": "CUSMA", "fr": "ACEUM"},
	"ceta_cuktca": {"en": "CETA/CUKTCA", "fr": "AECG/ACCRU"},
	"cptpp":       {"en": "CPTPP", "fr": "PTPGP"},
	"other_ftas":  {"en": "its free trade agreement with Canada", "fr": "son accord de libre-échange avec le Canada"},
}

// CountryLead is the line an answer starts with when the question names a
// country and the article declares per-country data (`country_groups` in
// its front matter): the country's IEC age limit and categories, or the
// trade agreements that cover its citizens. The data are the dialogue's
// country groups, whose IEC ages are the facts of facts.yaml. It returns ""
// when the question names no country (or several).
func (e *Engine) CountryLead(lang string, base *knowledge.Base, a *knowledge.Article, question string) string {
	if a == nil || len(a.CountryGroups) == 0 {
		return ""
	}
	return CountryLead(e.Rules(), base, lang, a, question)
}

// CountryLead is Engine.CountryLead for given rules.
func CountryLead(rules *Rules, base *knowledge.Base, lang string, a *knowledge.Article, question string) string {
	if rules == nil || a == nil {
		return ""
	}
	codes := CountriesIn(question)
	if len(codes) != 1 {
		return ""
	}
	c, ok := CountryByCode(codes[0])
	if !ok {
		return ""
	}
	name := leadName(c, lang)
	var facts *knowledge.Facts
	if base != nil {
		facts = base.Facts
	}
	var parts, covered []string
	var notCovered []string
	for _, gname := range a.CountryGroups {
		if gname == "agreements" {
			// Every trade agreement of the rules that covers the citizen.
			var names []string
			for _, ag := range rules.Agreements {
				if g := rules.Groups[ag.Group]; g != nil {
					if _, in := g.Countries[c.Alpha2]; in {
						names = append(names, ag.Name.In(lang))
					}
				}
			}
			switch {
			case len(names) > 0 && lang == "fr":
				parts = append(parts, fmt.Sprintf("%s : les citoyens sont couverts par %s.", name, strings.Join(names, ", ")))
			case len(names) > 0:
				parts = append(parts, fmt.Sprintf("%s: citizens are covered by %s.", name, strings.Join(names, ", ")))
			case lang == "fr":
				parts = append(parts, fmt.Sprintf("%s : aucun accord de libre-échange du Canada présenté ici ne couvre ses citoyens; voyez les autres options ci-dessous.", name))
			default:
				parts = append(parts, fmt.Sprintf("%s: none of the free trade agreements described here covers its citizens; see the other options below.", name))
			}
			continue
		}
		g := rules.Groups[gname]
		if g == nil {
			continue
		}
		max, in := g.Countries[c.Alpha2]
		if g.HasAges {
			if !in {
				if lang == "fr" {
					parts = append(parts, fmt.Sprintf("%s n'a pas d'accord Expérience internationale Canada (EIC) : les citoyens peuvent passer par un organisme reconnu.", name))
				} else {
					parts = append(parts, fmt.Sprintf("%s has no International Experience Canada (IEC) arrangement: its citizens may go through a recognized organization.", name))
				}
				continue
			}
			line := ""
			unconfirmed := g.Unconfirmed[c.Alpha2]
			page := ""
			if f := facts.Fact("iec.age_max"); f != nil {
				page = f.Source
			}
			switch {
			case unconfirmed && lang == "fr":
				line = fmt.Sprintf("%s : pays partenaire d'EIC, mais sa limite d'âge pour cette saison n'est pas confirmée ici (les limites d'EIC vont de %d ans jusqu'à %d ans au plus) : vérifiez-la sur la page d'IRCC sur l'admissibilité par pays", name, g.MinAge, g.UnconfirmedMax)
			case unconfirmed:
				line = fmt.Sprintf("%s: an IEC partner, but its age limit for this season is not confirmed here (IEC limits run from %d up to %d at most): check it on IRCC's eligibility-by-country page", name, g.MinAge, g.UnconfirmedMax)
			case lang == "fr":
				line = fmt.Sprintf("%s : EIC de %d à %d ans (l'invitation doit arriver avant que vous dépassiez la limite).", name, g.MinAge, max)
			default:
				line = fmt.Sprintf("%s: IEC ages %d–%d (you must be invited before you pass the limit).", name, g.MinAge, max)
			}
			if unconfirmed {
				if page != "" {
					line += " (" + page + ")"
				}
				line += "."
				max = g.UnconfirmedMax
			}
			if cat := facts.Fact("iec.categories"); cat != nil {
				if _, ok := cat.Values[c.Alpha2]; ok {
					if lang == "fr" {
						line += " Catégories : " + cat.Format(c.Alpha2, lang) + "."
					} else {
						line += " Categories: " + cat.Format(c.Alpha2, lang) + "."
					}
				}
			}
			if age := statedAge(question); age > 0 {
				switch {
				case unconfirmed && age >= g.MinAge && age <= max && lang == "fr":
					line += fmt.Sprintf(" À %d ans, vous êtes peut-être dans la limite : vérifiez celle de ce pays.", age)
				case unconfirmed && age >= g.MinAge && age <= max:
					line += fmt.Sprintf(" At %d, you may be within it: check this country's limit.", age)
				case unconfirmed && age > max && lang == "fr":
					line += fmt.Sprintf(" À %d ans, vous dépassez toutes les limites d'EIC.", age)
				case unconfirmed && age > max:
					line += fmt.Sprintf(" At %d, you are above every IEC limit.", age)
				case age >= g.MinAge && age <= max && lang == "fr":
					line += fmt.Sprintf(" À %d ans, vous êtes dans la limite.", age)
				case age >= g.MinAge && age <= max:
					line += fmt.Sprintf(" At %d, you are within the limit.", age)
				case lang == "fr":
					line += fmt.Sprintf(" À %d ans, vous êtes hors de la limite.", age)
				default:
					line += fmt.Sprintf(" At %d, you are outside the limit.", age)
				}
			}
			if season := facts.Fact("iec.season"); season != nil && season.Value != "" {
				if lang == "fr" {
					line += " (Saison " + season.Value + ".)"
				} else {
					line += " (" + season.Value + " season.)"
				}
			}
			parts = append(parts, line)
			continue
		}
		label, ok := ftaLabels[gname]
		for _, ag := range rules.Agreements {
			if ag.Group == gname {
				label, ok = knowledge.Text(ag.Name), true
				break
			}
		}
		if !ok {
			continue
		}
		if in {
			covered = append(covered, label.In(lang))
		} else {
			notCovered = append(notCovered, label.In(lang))
		}
	}
	switch {
	case len(covered) > 0 && lang == "fr":
		parts = append(parts, fmt.Sprintf("%s : les citoyens sont couverts par %s.", name, strings.Join(covered, ", ")))
	case len(covered) > 0:
		parts = append(parts, fmt.Sprintf("%s: citizens are covered by %s.", name, strings.Join(covered, ", ")))
	case len(notCovered) > 0 && lang == "fr":
		parts = append(parts, fmt.Sprintf("%s : pas couvert par %s ; voyez les autres options ci-dessous.", name, strings.Join(notCovered, ", ")))
	case len(notCovered) > 0:
		parts = append(parts, fmt.Sprintf("%s: not covered by %s; see the other options below.", name, strings.Join(notCovered, ", ")))
	}
	return strings.Join(parts, " ")
}

// leadName is the country's usual name in lang. Some French names in the
// table are the formal ones ("République française"); the short common name
// is then the English one, which French uses too (France, Angola, Costa Rica).
func leadName(c *Country, lang string) string {
	n := c.DisplayName(lang)
	if lang == "fr" {
		for _, p := range []string{"République ", "Royaume ", "Principauté ", "État ", "Sultanat ", "Grand-Duché "} {
			if strings.HasPrefix(n, p) && !strings.Contains(c.Name, " ") {
				return c.Name
			}
		}
	}
	return n
}
