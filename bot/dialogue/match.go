package dialogue

import (
	"regexp"
	"strconv"
	"strings"
)

// Lenient reading of typed answers.

// matchChoice reads a typed (or button) answer to a choice question. It
// accepts, in this order: the exact value, a label or alias, an option
// number (so that for TEER "1" is TEER 1, an exact value), "I don't know"
// (when the question offers it), everyday yes/no, a number in words ("TEER
// one"), and an answer that contains exactly one option's value, label or
// alias ("I want to open my own company"). question is true when the text
// looks like a question rather than an answer (the dialogue then answers
// it and asks again).
func matchChoice(f *Fact, text string) (value string, ok bool, question bool) {
	n := normalize(text)
	if n == "" {
		return "", false, false
	}
	for _, o := range f.Options {
		if n == normalize(o.Value) || n == normalize(strings.ReplaceAll(o.Value, "_", " ")) {
			return o.Value, true, false
		}
	}
	for _, o := range f.Options {
		for _, l := range o.Label {
			if n == normalize(l) {
				return o.Value, true, false
			}
		}
		for _, a := range o.Aliases {
			if n == normalize(a) {
				return o.Value, true, false
			}
		}
	}
	if i, err := strconv.Atoi(n); err == nil && i >= 1 && i <= len(f.Options) {
		return f.Options[i-1].Value, true, false
	}
	yn := f.hasValue("yes") && f.hasValue("no")
	if unknownAtStart(n) && !strings.Contains(text, "?") && f.hasValue(Unknown) {
		// "idk, any job really", "not sure, probably yes": a hedge before a
		// real answer counts as that answer.
		if rest := afterUnknown(n); rest != "" {
			if v, ok, _ := matchChoice(f, rest); ok && v != Unknown {
				return v, true, false
			}
		}
		return Unknown, true, false // before yes/no: "no idea" is not "no"
	}
	if yn {
		if v, ok := readYesNo(n); ok {
			return v, true, false
		}
	}
	if isUnknownAnswer(n) && !strings.Contains(text, "?") && f.hasValue(Unknown) {
		return Unknown, true, false
	}
	if looksLikeQuestion(text) {
		return "", false, true
	}
	// Numbers in words or with a unit: "TEER one", "FEER deux", "level 2".
	if nums := parseNumbers(n); len(nums) == 1 {
		want := strconv.Itoa(nums[0])
		if f.hasValue(want) {
			return want, true, false
		}
	}
	// "Are you in Canada?" (a yes option with the alias "in canada"): a
	// place in Canada is yes, another country is no ("still in Texas" is
	// read by its "not yet").
	if yn && optionHasAlias(f, "yes", "in canada") {
		if mentionsPlaceInCanada(n) {
			return "yes", true, false
		}
		if cs := countriesInText(text); len(cs) > 0 && !contains(cs, "CA") {
			return "no", true, false
		}
	}
	// An answer that mentions exactly one option ("TEER 2", "I'm an employer",
	// "I want to open my own company").
	found := ""
	for _, o := range f.Options {
		keys := append([]string{o.Value, strings.ReplaceAll(o.Value, "_", " ")}, o.Aliases...)
		if !yn {
			for _, l := range o.Label {
				keys = append(keys, l)
			}
		} else if o.Value == "yes" || o.Value == "no" || o.Value == Unknown {
			keys = o.Aliases // "yes"/"no" inside a sentence are read by readYesNo only
		}
		for _, k := range keys {
			if k = normalize(k); k != "" && containsPhrase(n, k) {
				if found != "" && found != o.Value {
					return "", false, false
				}
				found = o.Value
				break
			}
		}
	}
	if found != "" {
		return found, true, false
	}
	return "", false, false
}

// containsPhrase reports whether the normalized text n contains the
// normalized phrase p as whole words.
func containsPhrase(n, p string) bool {
	return n == p || strings.HasPrefix(n, p+" ") || strings.HasSuffix(n, " "+p) || strings.Contains(n, " "+p+" ")
}

// matchNumber reads a whole number in [min, max] from an answer such as
// "32", "I'm 32", "32.0", "32 years old", "32 ans", "thirty two" or
// "trente-deux". ok is false for no number, several numbers, or a number
// out of range; "I don't know" gives unknown.
func matchNumber(f *Fact, text string) (value string, ok bool, question bool) {
	n := normalize(text)
	if isUnknownAnswer(n) {
		return Unknown, true, false
	}
	nums := numberRE.FindAllString(text, -1)
	if len(nums) == 1 && len(strings.Fields(n)) <= 12 {
		x, err := strconv.ParseFloat(strings.Replace(nums[0], ",", ".", 1), 64)
		if v := int(x); err == nil && x < 1e6 && v >= f.Min && v <= f.Max {
			return strconv.Itoa(v), true, false // whole years: 32.5 is 32
		}
		return "", false, false
	}
	if len(nums) == 0 && len(strings.Fields(n)) <= 12 {
		if ws := parseNumbers(n); len(ws) == 1 {
			if ws[0] >= f.Min && ws[0] <= f.Max {
				return strconv.Itoa(ws[0]), true, false
			}
			return "", false, false
		}
	}
	return "", false, looksLikeQuestion(text)
}

var numberRE = regexp.MustCompile(`\d+(?:[.,]\d+)?`)

var questionStarts = map[string]bool{
	"what": true, "whats": true, "how": true, "why": true, "when": true, "where": true, "who": true, "which": true,
	"can": true, "could": true, "do": true, "does": true, "did": true, "is": true, "are": true, "should": true,
	"will": true, "would": true, "may": true, "must": true, "am": true, "have": true, "has": true,
	"quel": true, "quelle": true, "quels": true, "quelles": true, "comment": true, "pourquoi": true, "quand": true,
	"ou": true, "qui": true, "combien": true, "est": true, "puis": true, "peut": true, "peux": true, "dois": true,
	"faut": true, "qu": true, "que": true, "ai": true, "suis": true, "y": false,
}

// looksLikeQuestion reports whether text reads as a question (a question
// mark, or three or more words starting with a question word).
func looksLikeQuestion(text string) bool {
	if strings.Contains(text, "?") {
		return true
	}
	words := strings.Fields(normalize(text))
	return len(words) >= 3 && questionStarts[words[0]]
}

// control words typed instead of an answer.
const (
	ctlBack    = "back"
	ctlRestart = "restart"
	ctlCancel  = "cancel"
	ctlSummary = "summary"
)

var controlWords = map[string]string{
	"back": ctlBack, "go back": ctlBack, "previous": ctlBack, "undo": ctlBack, "retour": ctlBack,
	"precedent": ctlBack, "revenir": ctlBack, "en arriere": ctlBack, "retour en arriere": ctlBack,
	"restart": ctlRestart, "start over": ctlRestart, "start again": ctlRestart, "reset": ctlRestart,
	"recommencer": ctlRestart, "reprendre": ctlRestart, "recommencer a zero": ctlRestart,
	"cancel": ctlCancel, "stop": ctlCancel, "quit": ctlCancel, "exit": ctlCancel, "abort": ctlCancel,
	"summary": ctlSummary, "my answers": ctlSummary, "resume": ctlSummary, "recapitulatif": ctlSummary, "mes reponses": ctlSummary,
	"annuler": ctlCancel, "arreter": ctlCancel, "arrete": ctlCancel, "quitter": ctlCancel, "stopper": ctlCancel,
}

// controlWord returns the control typed as text ("back", "annuler"), or "".
func controlWord(text string) string {
	return controlWords[normalize(text)]
}

// Start requests typed in plain text. They must be the whole message (with
// polite words around), so that a plain question such as "am I eligible for
// a PGWP?" is answered by the FAQ and does not start the dialogue.
var (
	startEN = regexp.MustCompile(`^(?:(?:hi|hello|hey|ok|okay|please|bonjour)\s+)*` +
		`(?:(?:can you|could you|would you|please|i want to|i would like to|i d like to|i wanna|i need to|help me|let me|let s|lets|how do i|how can i)\s+)*` +
		`(?:` +
		`(?:check|verify|assess|test|see|find out|determine|know|evaluate|start|run|do|begin)\s+(?:my|our|his|her|their|the worker s|the|an?)?\s*(?:work permit\s+|permit\s+|imp\s+)?eligibility(?:\s+check)?(?:\s+for (?:a |an )?(?:work permit|permit|imp|canada))?` +
		`|(?:start|run|do|begin)\s+(?:the|an?)?\s*(?:eligibility (?:check|test|quiz|questionnaire)|questionnaire|quiz)` +
		`|am i eligible(?:\s+for\s+(?:a|an|any)\s+(?:work\s+)?permits?|\s+for anything|\s+for the imp|\s+to work in canada|\s+for an lmia exempt (?:work\s+)?permit)?` +
		`|are we eligible|is (?:my|our|the) worker eligible` +
		`|what am i eligible for|what (?:work )?permits? am i eligible for` +
		`|(?:which|what)\s+(?:work\s+)?permits?\s+(?:can|could|might|may|should)\s+(?:i|we|my worker|the worker)\s+(?:get|apply for|qualify for|be eligible for|obtain)(?:\s+in canada)?` +
		`|(?:which|what)\s+(?:imp\s+)?(?:stream|streams|program|programs|category|categories)\s+(?:fits|fit|suits|suit)\s+(?:me|us|my worker)` +
		`|eligibility(?:\s+check)?|check eligibility|eligibility quiz` +
		`)(?:\s+(?:please|now|thanks|thank you))*$`)
	startFR = regexp.MustCompile(`^(?:(?:bonjour|salut|ok|svp|s il vous plait)\s+)*` +
		`(?:(?:je veux|je voudrais|j aimerais|pouvez vous|peux tu|aidez moi a|aide moi a|comment)\s+)*` +
		`(?:` +
		`(?:verifier|evaluer|tester|connaitre|savoir|faire)\s+(?:mon|ma|son|notre|l)?\s*(?:admissibilite|eligibilite)` +
		`|suis je (?:admissible|eligible)(?:\s+a\s+un\s+permis(?:\s+de\s+travail)?)?` +
		`|est ce que je suis (?:admissible|eligible)` +
		`|(?:quel|quels)\s+permis\s+(?:puis je|je peux|pourrais je|est ce que je peux)\s+(?:obtenir|avoir|demander)(?:\s+au canada)?` +
		`|a\s+quels?\s+permis\s+(?:ai je droit|suis je admissible|suis je eligible)` +
		`|(?:test|verification)\s+d\s*(?:admissibilite|eligibilite)` +
		`)(?:\s+(?:svp|s il vous plait|merci))*$`)
)

// IsStartRequest reports whether text explicitly asks to start the
// eligibility check, and in which language.
func IsStartRequest(text string) (ok bool, lang string) {
	n := normalize(text)
	if n == "" || len(n) > 160 {
		return false, ""
	}
	if startFR.MatchString(n) {
		return true, "fr"
	}
	if startEN.MatchString(n) {
		return true, "en"
	}
	return false, ""
}

func optionHasAlias(f *Fact, value, alias string) bool {
	for _, o := range f.Options {
		if o.Value == value {
			for _, a := range o.Aliases {
				if normalize(a) == alias {
					return true
				}
			}
		}
	}
	return false
}
