package dialogue

// messages are the dialogue's own words around the questions of the rules
// file. The rules file may override any of them under `texts:`.
var messages = map[string]map[string]string{
	"en": {
		"intro": "Let's see which LMIA-exempt work permits (International Mobility Program) may fit. " +
			"I'll ask a few short questions, one at a time. Type **back**, **restart** or **cancel** at any time.",
		"restarted":       "OK, let's start again.",
		"cancelled":       "OK, I've stopped the eligibility check. Ask me anything, or type /eligibility to start again.",
		"first_question":  "This is already the first question.",
		"not_understood":  "Sorry, I didn't understand that answer.",
		"choose_option":   "Please choose one of the options (tap a button or type it).",
		"type_country":    "Please type a country, for example Ireland, Mexico or India.",
		"type_number":     "Please type a whole number between %d and %d.",
		"which_country":   "“%s” could mean more than one thing. Which country do you mean? Tap one, or type the full name.",
		"did_you_mean":    "I don't know the country “%s”. Did you mean one of these? Tap one, or type the name again.",
		"back_to":         "Back to the eligibility check:",
		"result_intro":    "**Based on your answers, these may fit:**",
		"result_possible": "**Worth checking, depending on the details:**",
		"result_notes":    "**Also:**",
		"key_conditions":  "Key conditions",
		"result_outro":    "This is a first orientation, not a decision: check the conditions on canada.ca before you apply.",
		"btn_back":        "⬅ Back",
		"btn_cancel":      "✖ Cancel",
		"btn_again":       "Check again",
	},
	"fr": {
		"intro": "Voyons quels permis de travail dispensés d'EIMT (Programme de mobilité internationale) pourraient convenir. " +
			"Je vais poser quelques questions courtes, une à la fois. Tapez **retour**, **recommencer** ou **annuler** à tout moment.",
		"restarted":       "D'accord, on recommence.",
		"cancelled":       "D'accord, j'ai arrêté la vérification d'admissibilité. Posez-moi vos questions, ou tapez /eligibility pour recommencer.",
		"first_question":  "C'est déjà la première question.",
		"not_understood":  "Désolé, je n'ai pas compris cette réponse.",
		"choose_option":   "Choisissez l'une des options (touchez un bouton ou tapez-la).",
		"type_country":    "Tapez un pays, par exemple Irlande, Mexique ou Inde.",
		"type_number":     "Tapez un nombre entier entre %d et %d.",
		"which_country":   "« %s » peut avoir plusieurs sens. De quel pays s'agit-il ? Touchez-en un, ou tapez le nom complet.",
		"did_you_mean":    "Je ne connais pas le pays « %s ». Vouliez-vous dire l'un de ceux-ci ? Touchez-en un, ou retapez le nom.",
		"back_to":         "Revenons à la vérification d'admissibilité :",
		"result_intro":    "**D'après vos réponses, ces options pourraient convenir :**",
		"result_possible": "**À vérifier, selon les détails :**",
		"result_notes":    "**Aussi :**",
		"key_conditions":  "Conditions principales",
		"result_outro":    "Ceci est une première orientation, pas une décision : vérifiez les conditions sur canada.ca avant de présenter une demande.",
		"btn_back":        "⬅ Retour",
		"btn_cancel":      "✖ Annuler",
		"btn_again":       "Refaire la vérification",
	},
}

func msg(lang, key string) string {
	if m, ok := messages[lang][key]; ok {
		return m
	}
	return messages["en"][key]
}
