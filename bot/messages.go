package bot

import (
	"strings"
	"unicode"
)

// messages are the bot's own words, per language. Article content comes from
// the knowledge files; these are only the frame around it.
var messages = map[string]map[string]string{
	"en": {
		"start": "Hello! I answer questions about Canada's **International Mobility Program**: LMIA-exempt work permits " +
			"(intra-company transfers, CUSMA and other trade agreements, IEC working holidays, spousal and post-graduation " +
			"open permits, the employer compliance fee and portal, the Global Skills Strategy and more).\n\n" +
			"Ask me a question in your own words, or use /eligibility to check which permits may fit you.",
		"help": "**What I can do**\n" +
			"- Answer questions about LMIA-exempt work permits: just type your question.\n" +
			"- /eligibility: a few questions to see which IMP streams may fit you.\n" +
			"- /contact: how to reach a person.\n" +
			"- /forget: delete what I keep about you.\n" +
			"During the eligibility check: /back, /restart, /cancel.",
		"fallback": "Sorry, I can't help with that. I only answer questions about Canada's International Mobility Program " +
			"(LMIA-exempt work permits): open and employer-specific permits, trade agreements, IEC, spousal and " +
			"post-graduation permits, employer fees and steps. Try asking about one of these, or type /help.",
		"other_lang": "I answer in English and French only: please ask again in one of them.\n" +
			"Je réponds en anglais et en français seulement : reformulez votre question dans l'une de ces langues.\n" +
			"Solo respondo en inglés y francés: por favor, pregunte en uno de estos idiomas.\n" +
			"Só respondo em inglês e francês: por favor, pergunte em um desses idiomas.",
		"unsure":          "I'm not sure I understood. Did you mean one of these? If not, I only answer questions about Canada's International Mobility Program (LMIA-exempt work permits): try other words.",
		"empty":           "Please type a question about Canadian work permits, or /help to see what I can do.",
		"greeting":        "Hello! Ask me anything about LMIA-exempt work permits in Canada, or type /eligibility to check your options.",
		"thanks":          "You're welcome! Ask me anything else about IMP work permits whenever you like.",
		"error":           "Sorry, something went wrong on my side. Please try again in a moment.",
		"slow_down":       "You're sending messages very fast. Please wait a few seconds and try again.",
		"unknown_cmd":     "I don't know that command. Type /help to see what I can do.",
		"no_dialogue":     "There is no eligibility check in progress. Type /eligibility to start one.",
		"no_engine":       "The eligibility check is not available right now. You can still ask me questions.",
		"dialogue_paused": "The eligibility check is briefly unavailable. Your answers so far are kept: try again in a minute. You can still ask me questions.",
		"forgot":          "Done: I have deleted what I kept about you (your conversation state).",
		"notice":          "General information, not legal advice.",
		"contact":         "Talk to a person: %s.",
		"contact_cmd":     "To talk to a person about your situation, contact %s.",
		"default_contact": "a licensed immigration consultant (RCIC, check them on college-ic.ca) or a lawyer; " +
			"IRCC's own help: https://www.canada.ca/en/immigration-refugees-citizenship/corporate/contact-ircc.html",
		"reviewed":      "Reviewed",
		"sources":       "Sources",
		"more":          "More in the sources below.",
		"btn_full":      "Full article",
		"btn_more":      "More: ",
		"btn_elig":      "Check my eligibility",
		"btn_person":    "Talk to a person",
		"btn_helpful":   "👍 Helpful",
		"btn_unhelpful": "👎 Not helpful",
		"feedback":      "Thanks for your feedback!",
		"outside":       "This is outside what I cover in detail.",
		"src_laws":      "Justice Laws",
		"src_gc":        "Government of Canada",
		"src_quebec":    "Québec",
		"src_cicc":      "CICC",
		"src_other":     "source",
	},
	"fr": {
		"start": "Bonjour ! Je réponds aux questions sur le **Programme de mobilité internationale** du Canada : les permis de travail " +
			"dispensés d'EIMT (mutations intra-entreprise, ACEUM et autres accords commerciaux, PVT / EIC, permis ouverts pour " +
			"conjoints et diplômés, frais et portail des employeurs, Stratégie en matière de compétences mondiales, etc.).\n\n" +
			"Posez votre question avec vos mots, ou tapez /eligibility pour voir quels permis pourraient vous convenir.",
		"help": "**Ce que je peux faire**\n" +
			"- Répondre aux questions sur les permis de travail dispensés d'EIMT : tapez votre question.\n" +
			"- /eligibility : quelques questions pour voir quels volets du PMI pourraient vous convenir.\n" +
			"- /contact : parler à une personne.\n" +
			"- /forget : effacer ce que je garde sur vous.\n" +
			"Pendant la vérification : /back, /restart, /cancel.",
		"fallback": "Désolé, je ne peux pas vous aider pour cela. Je réponds seulement aux questions sur le Programme de mobilité " +
			"internationale du Canada (permis de travail dispensés d'EIMT). Essayez une question sur ce sujet, ou tapez /help.",
		"other_lang": "I answer in English and French only: please ask again in one of them.\n" +
			"Je réponds en anglais et en français seulement : reformulez votre question dans l'une de ces langues.\n" +
			"Solo respondo en inglés y francés: por favor, pregunte en uno de estos idiomas.\n" +
			"Só respondo em inglês e francês: por favor, pergunte em um desses idiomas.",
		"unsure":          "Je ne suis pas sûr d'avoir compris. Vouliez-vous dire l'un de ces sujets ? Sinon, je réponds seulement aux questions sur le Programme de mobilité internationale du Canada (permis de travail dispensés d'EIMT) : essayez d'autres mots.",
		"empty":           "Tapez une question sur les permis de travail au Canada, ou /help pour voir ce que je sais faire.",
		"greeting":        "Bonjour ! Posez-moi vos questions sur les permis de travail dispensés d'EIMT, ou tapez /eligibility.",
		"thanks":          "Avec plaisir ! N'hésitez pas si vous avez d'autres questions.",
		"error":           "Désolé, un problème est survenu de mon côté. Réessayez dans un instant.",
		"slow_down":       "Vous envoyez des messages très vite. Attendez quelques secondes puis réessayez.",
		"unknown_cmd":     "Je ne connais pas cette commande. Tapez /help pour voir ce que je sais faire.",
		"no_dialogue":     "Aucune vérification d'admissibilité en cours. Tapez /eligibility pour en commencer une.",
		"no_engine":       "La vérification d'admissibilité n'est pas disponible pour le moment.",
		"dialogue_paused": "La vérification d'admissibilité est brièvement indisponible. Vos réponses sont conservées : réessayez dans une minute. Vous pouvez toujours me poser des questions.",
		"forgot":          "C'est fait : j'ai effacé ce que je gardais sur vous.",
		"notice":          "Information générale, pas un avis juridique.",
		"contact":         "Parler à une personne : %s.",
		"contact_cmd":     "Pour parler de votre situation à une personne, contactez %s.",
		"default_contact": "un consultant réglementé en immigration (CRIC, vérifiable sur college-ic.ca) ou un avocat ; " +
			"l'aide d'IRCC : https://www.canada.ca/fr/immigration-refugies-citoyennete/organisation/contactez-ircc.html",
		"reviewed":      "Vérifié le",
		"sources":       "Sources",
		"more":          "Plus de détails dans les sources ci-dessous.",
		"btn_full":      "Article complet",
		"btn_more":      "Voir : ",
		"btn_elig":      "Vérifier mon admissibilité",
		"btn_person":    "Parler à une personne",
		"btn_helpful":   "👍 Utile",
		"btn_unhelpful": "👎 Pas utile",
		"feedback":      "Merci pour votre avis !",
		"outside":       "Ce sujet dépasse ce que je couvre en détail.",
		"src_laws":      "Lois du Canada",
		"src_gc":        "Gouvernement du Canada",
		"src_quebec":    "Québec",
		"src_cicc":      "CCIC",
		"src_other":     "source",
	},
}

func msg(lang, key string) string {
	if m, ok := messages[lang][key]; ok {
		return m
	}
	return messages["en"][key]
}

// Colon is ": " in English and " : " in French (French typography: a space
// before the colon).
func Colon(lang string) string {
	if lang == "fr" {
		return " : "
	}
	return ": "
}

// Msg returns one of the bot's own texts in lang (English when missing).
func Msg(lang, key string) string { return msg(lang, key) }

var frenchWords = map[string]bool{
	"je": true, "tu": true, "vous": true, "nous": true, "est": true, "le": true, "la": true, "les": true,
	"des": true, "une": true, "un": true, "pour": true, "avec": true, "mon": true, "ma": true, "mes": true,
	"est-ce": true, "que": true, "qui": true, "quel": true, "quelle": true, "comment": true, "combien": true,
	"permis": true, "travail": true, "travailler": true, "bonjour": true, "merci": true, "salut": true,
	"peux": true, "peut": true, "puis": true, "dois": true, "faut": true, "suis": true, "ai": true,
	"au": true, "aux": true, "du": true, "sur": true, "dans": true, "pas": true, "ne": true, "sans": true,
	"emploi": true, "employeur": true, "conjoint": true, "conjointe": true, "mais": true, "ou": true, "et": true,
	"c'est": true, "j'ai": true, "qu'est-ce": true, "d'un": true, "d'une": true, "l'eimt": true, "eimt": true,
	// more common words, and the French names of the programs (PVT, EIC,
	// PMI, PTPD…), as typed on phones too (without accents)
	"ans": true, "année": true, "annee": true, "années": true, "mois": true, "âge": true, "où": true,
	"quand": true, "pourquoi": true, "aussi": true, "très": true, "tres": true, "être": true, "etre": true,
	"avoir": true, "il": true, "elle": true, "ils": true, "elles": true, "cette": true, "ce": true,
	"sont": true, "faire": true, "moi": true, "mari": true, "femme": true, "enfants": true, "depuis": true,
	"après": true, "apres": true, "avant": true, "encore": true, "déjà": true, "deja": true, "veux": true,
	"voudrais": true, "aimerais": true, "besoin": true, "obtenir": true, "demande": true, "délai": true,
	"delai": true, "frais": true, "étudiant": true, "etudiant": true, "étudiante": true, "études": true,
	"etudes": true, "diplôme": true, "diplome": true, "vacances-travail": true, "vacances": true,
	"pvt": true, "eic": true, "pmi": true, "ptpd": true, "aceum": true, "aecg": true,
	"ptpgp": true, "oui": true, "non": true, "svp": true, "s'il": true, "plaît": true, "plait": true,
}

var englishWords = map[string]bool{
	"the": true, "i": true, "you": true, "is": true, "are": true, "a": true, "an": true, "my": true,
	"to": true, "of": true, "for": true, "with": true, "can": true, "do": true, "does": true, "how": true,
	"what": true, "work": true, "permit": true, "and": true, "in": true, "on": true, "we": true, "our": true,
	"need": true, "much": true, "it": true, "be": true, "have": true, "if": true, "will": true, "from": true,
	"hello": true, "hi": true, "thanks": true, "job": true, "employer": true, "spouse": true, "wife": true,
	// more common words
	"years": true, "old": true, "apply": true, "get": true, "when": true, "where": true, "why": true,
	"who": true, "which": true, "this": true, "that": true, "am": true, "was": true,
	"been": true, "want": true, "would": true, "should": true, "could": true, "still": true, "after": true,
	"before": true, "husband": true, "kids": true, "children": true, "fee": true, "fees": true,
	"processing": true, "study": true, "student": true, "company": true, "working": true,
	"holiday": true, "please": true, "yes": true, "there": true,
}

// Common words of the languages people also write in but the knowledge
// has no articles in: Spanish and Portuguese (Mexican CUSMA and IEC
// applicants, Brazilians…). Only words that are neither French nor
// English words (not "de", "la", "que", "en", "un", "me", "son", "mes").
var otherWords = map[string]map[string]bool{
	"es": setOf("el", "los", "las", "está", "estoy", "puedo", "puede", "pueden", "tengo", "tiene",
		"quiero", "necesito", "para", "con", "por", "cómo", "qué", "cuál", "cuánto", "cuanto", "cuanta",
		"esposa", "esposo", "hijos", "trabajo", "trabajar", "permiso", "hola",
		"gracias", "año", "años", "una", "pero", "también", "soy", "hacer", "cuando", "donde", "dónde",
		"porque", "muy", "ahora", "canadá", "solicitar", "abierto", "estudiante", "estudios", "empleador",
		"del", "al", "necesita", "cuesta", "tiempo", "días", "meses", "mexicano", "mexicana"),
	"pt": setOf("não", "nao", "com", "uma", "minha", "meu", "esposa", "marido", "para", "visto",
		"autorização", "quanto", "como", "quero", "preciso", "tenho", "obrigado", "obrigada", "olá", "ola",
		"você", "voce", "está", "posso", "pode", "trabalhar", "trabalho", "canadá", "aplicar",
		"filhos", "anos", "empregador", "estudante", "aberta", "permissão", "também", "tambem", "depois",
		"quando", "onde", "porque", "muito", "agora", "da", "das", "na", "é",
		"brasileiro", "brasileira"),
}

func setOf(ws ...string) map[string]bool {
	m := make(map[string]bool, len(ws))
	for _, w := range ws {
		m[w] = true
	}
	return m
}

// OtherLang tells whether text is clearly written in a language the bot
// does not answer in ("es", "pt"; "" when it is English, French, mixed or
// too short to tell): at least three of that language's common words, more
// than of any other language counted, and three times as many as French and
// English ones together (a Spanish greeting before an English question is
// English: "soy mexicano, tengo oferta… can I use CUSMA?"). "¿" and "¡"
// count as Spanish words.
func OtherLang(text string) string {
	// One pass over the words counts every language (this runs on every
	// question).
	var es, pt, fr, en int
	es = strings.Count(text, "¿") + strings.Count(text, "¡")
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && r != '\'' && r != '’' && r != '-'
	}) {
		w = strings.ReplaceAll(w, "’", "'")
		if frenchWords[w] {
			fr++
		}
		if englishWords[w] {
			en++
		}
		if otherWords["es"][w] {
			es++
		}
		if otherWords["pt"][w] {
			pt++
		}
	}
	best, bestN, second := "", 0, 0
	for _, c := range []struct {
		lang string
		n    int
	}{{"es", es}, {"pt", pt}} {
		lang, n := c.lang, c.n
		switch {
		case n > bestN:
			best, bestN, second = lang, n, bestN
		case n > second:
			second = n
		}
	}
	if bestN >= 3 && bestN > second && bestN >= 3*(fr+en) {
		return best
	}
	return ""
}

// DetectLang guesses "fr" or "en" from the text (English when unsure).
func DetectLang(text string) string {
	if fr, en := langScores(text); fr > en {
		return "fr"
	}
	return "en"
}

// langScores counts the text's common French and English words.
func langScores(text string) (fr, en int) {
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && r != '\'' && r != '’' && r != '-'
	}) {
		w = strings.ReplaceAll(w, "’", "'")
		if frenchWords[w] {
			fr++
		}
		if englishWords[w] {
			en++
		}
	}
	return fr, en
}

// RequestLang is the language to answer req in (see detectLang).
func RequestLang(req *Request) string { return detectLang(req) }

// detectLang picks the reply language: the text's when it is clear (words
// of one language only, or two more of one than of the other); the
// platform's locale (req.Lang) breaks ties and decides for texts without
// words (buttons, "PGWP?"); English otherwise.
func detectLang(req *Request) string {
	if l, ok := textLang(req.Text); ok {
		return l
	}
	return tieLang(req)
}

// textLang is the text's language when its common words make it clear.
func textLang(text string) (string, bool) {
	fr, en := langScores(text)
	switch {
	case fr > 0 && en == 0, fr >= en+2:
		return "fr", true
	case en > 0 && fr == 0, en >= fr+2:
		return "en", true
	}
	return "", false
}

// tieLang decides when the text's common words do not: the platform's
// locale, else the side with more common words, else English.
func tieLang(req *Request) string {
	fr, en := langScores(req.Text)
	if l := strings.ToLower(req.Lang); strings.HasPrefix(l, "fr") {
		return "fr"
	} else if l != "" {
		return "en"
	}
	if fr > en {
		return "fr"
	}
	return "en"
}
