package dialogue

import (
	"regexp"
	"strconv"
	"strings"
)

// Lenient reading of typed answers.

var (
	yesWords = map[string]bool{
		"y": true, "yes": true, "yeah": true, "yep": true, "yup": true, "ya": true, "yea": true, "sure": true,
		"correct": true, "right": true, "true": true, "affirmative": true, "of course": true, "definitely": true,
		"absolutely": true, "i do": true, "i am": true, "it is": true, "we do": true, "they do": true, "he does": true, "she does": true,
		"oui": true, "o": true, "ouais": true, "ouep": true, "bien sur": true, "tout a fait": true, "exact": true,
		"exactement": true, "vrai": true, "affirmatif": true, "si": true, "absolument": true, "oui oui": true,
	}
	noWords = map[string]bool{
		"n": true, "no": true, "nope": true, "nah": true, "not": true, "false": true, "negative": true, "never": true,
		"i don t": true, "i do not": true, "i m not": true, "i am not": true, "it isn t": true, "it is not": true,
		"not really": true, "no way": true, "none": true,
		"non": true, "nan": true, "pas du tout": true, "faux": true, "negatif": true, "jamais": true, "pas vraiment": true,
	}
	// unsureWords make a yes/no answer a non-answer ("no idea", "not sure").
	unsureWords = []string{"sure", "know", "idea", "sais", "certain", "unsure", "maybe", "peut etre", "perhaps"}
)

// matchChoice reads a typed (or button) answer to a choice question. It
// accepts, in this order: the exact value, a label or alias, an option
// number (so that for TEER "1" is TEER 1, an exact value), yes/no words,
// and an answer that contains exactly one option's value or alias.
// question is true when the text looks like a question rather than an
// answer (the dialogue then answers it and asks again).
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
	if yn && (yesWords[n] || noWords[n]) {
		return map[bool]string{true: "yes", false: "no"}[yesWords[n]], true, false
	}
	if looksLikeQuestion(text) {
		return "", false, true
	}
	if yn {
		// Yes/no questions: only a leading yes or no counts ("no idea" is
		// not "no").
		v, ok := leadingYesNo(n)
		return v, ok, false
	}
	// An answer that mentions exactly one option ("TEER 2", "I'm an employer").
	found := ""
	for _, o := range f.Options {
		keys := append([]string{o.Value, strings.ReplaceAll(o.Value, "_", " ")}, o.Aliases...)
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

// leadingYesNo reads "yes I do", "no, not yet", "oui bien sûr": a short
// answer that starts with a yes/no word and does not express doubt.
func leadingYesNo(n string) (string, bool) {
	words := strings.Fields(n)
	if len(words) == 0 || len(words) > 8 {
		return "", false
	}
	for _, u := range unsureWords {
		if containsPhrase(n, u) {
			return "", false
		}
	}
	for l := min(3, len(words)); l >= 1; l-- {
		head := strings.Join(words[:l], " ")
		if yesWords[head] {
			return "yes", true
		}
		if noWords[head] {
			return "no", true
		}
	}
	return "", false
}

// containsPhrase reports whether the normalized text n contains the
// normalized phrase p as whole words.
func containsPhrase(n, p string) bool {
	return n == p || strings.HasPrefix(n, p+" ") || strings.HasSuffix(n, " "+p) || strings.Contains(n, " "+p+" ")
}

var numberRE = regexp.MustCompile(`\d+(?:[.,]\d+)?`)

// matchNumber reads a whole number in [min, max] from a short answer such
// as "32", "I'm 32", "32.0" or "32 ans". ok is false for no number, several
// numbers, or a number out of range.
func matchNumber(f *Fact, text string) (value string, ok bool, question bool) {
	n := normalize(text)
	nums := numberRE.FindAllString(text, -1)
	if len(nums) == 1 && len(strings.Fields(n)) <= 6 && !strings.Contains(text, "?") {
		x, err := strconv.ParseFloat(strings.Replace(nums[0], ",", ".", 1), 64)
		if v := int(x); err == nil && x < 1e6 && v >= f.Min && v <= f.Max {
			return strconv.Itoa(v), true, false // whole years: 32.5 is 32
		}
		return "", false, false
	}
	return "", false, looksLikeQuestion(text)
}

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
)

var controlWords = map[string]string{
	"back": ctlBack, "go back": ctlBack, "previous": ctlBack, "undo": ctlBack, "retour": ctlBack,
	"precedent": ctlBack, "revenir": ctlBack, "en arriere": ctlBack, "retour en arriere": ctlBack,
	"restart": ctlRestart, "start over": ctlRestart, "start again": ctlRestart, "reset": ctlRestart,
	"recommencer": ctlRestart, "reprendre": ctlRestart, "recommencer a zero": ctlRestart,
	"cancel": ctlCancel, "stop": ctlCancel, "quit": ctlCancel, "exit": ctlCancel, "abort": ctlCancel,
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
