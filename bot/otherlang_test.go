package bot

import (
	"strings"
	"sync"
	"testing"
)

func TestOtherLangFindsSpanishAndPortuguese(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"¿Puedo trabajar en Canadá con un permiso abierto?", "es"},
		{"Hola, mi esposa tiene un PGWP, ¿puedo trabajar también?", "es"},
		{"soy mexicano, cuanto cuesta el permiso de trabajo", "es"},
		{"Posso trabalhar no Canadá com uma autorização aberta?", "pt"},
		{"minha esposa tem PGWP, eu posso trabalhar também?", "pt"},
		// English, French, mixed or too short: not another language.
		{"Can I work in Canada con my PGWP?", ""},
		{"Est-ce que je peux travailler à mi-temps avec un permis ouvert ?", ""},
		{"il y a des frais pour le PVT ?", ""},
		{"pgwp para mexicanos", ""},
		{"soy mexicano, tengo una oferta en Calgary. Can I use the CUSMA professional category?", ""},
		{"Como", ""},
		{"", ""},
	} {
		if got := OtherLang(c.text); got != c.want {
			t.Errorf("OtherLang(%q) = %q, want %q", c.text, got, c.want)
		}
	}
}

// TestOtherLangReply: a Spanish question gets the four-language note and
// the start buttons, not the French fallback; the observer counts it among
// the unanswered questions.
func TestOtherLangReply(t *testing.T) {
	obs := &recordingObserver{}
	r := newTestRouter(t, Options{Observer: obs})
	rep := ask(t, r, "¿Puedo trabajar en Canadá con un permiso abierto?")
	if rep.Topic != "" || !strings.Contains(rep.Text, "Solo respondo en inglés y francés") ||
		!strings.Contains(rep.Text, "I answer in English and French only") {
		t.Fatalf("reply %q (topic %q)", rep.Text, rep.Topic)
	}
	if len(rep.Buttons) == 0 || rep.Buttons[len(rep.Buttons)-1].Action != ActHandoff {
		t.Errorf("buttons %+v: want the start buttons ending with a person", rep.Buttons)
	}
	qs := obs.questions()
	if len(qs) != 1 || qs[0].Outcome != OutcomeUnrelated || qs[0].Text == "" {
		t.Errorf("observed %+v", qs)
	}
	// An English question is still answered.
	if rep := ask(t, r, "Can my wife work in Canada with an open permit while I study?"); rep.Topic == "" {
		t.Errorf("English question not answered: %q", rep.Text)
	}
}

// recordingObserver keeps the events the router reports.
type recordingObserver struct {
	mu sync.Mutex
	qs []QuestionEvent
}

func (o *recordingObserver) Question(ev QuestionEvent) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.qs = append(o.qs, ev)
}

func (o *recordingObserver) Feedback(FeedbackEvent) {}

func (o *recordingObserver) questions() []QuestionEvent {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]QuestionEvent(nil), o.qs...)
}

// TestReplyLangFromTheKnowledgesWords: a text without a common word of
// either language is answered in the language whose knowledge alone has
// some of its words; the platform's locale decides only when the words do
// not (no word, or words of both).
func TestReplyLangFromTheKnowledgesWords(t *testing.T) {
	r := newTestRouter(t, Options{})
	ix := r.ix.Load()
	for _, c := range []struct{ text, locale, want string }{
		{"🏥 examen médical obligatoire ?", "", "fr"},
		{"examen médical obligatoire", "en", "fr"},
		{"PGWP processing?", "fr", "en"},
		{"permis fermé changement employeur", "", "fr"},
		// No word either knowledge has alone: the locale, else English.
		{"🎓➡️💼", "fr", "fr"},
		{"🎓➡️💼", "", "en"},
		{"PGWP C43", "fr", "fr"},
		// Common words still decide first.
		{"how much is the PVT fee", "fr", "en"},
	} {
		if got := replyLang(ix, &Request{Text: c.text, Lang: c.locale}); got != c.want {
			t.Errorf("replyLang(%q, locale %q) = %s, want %s", c.text, c.locale, got, c.want)
		}
	}
	// The answer comes from that language's article.
	rep := ask(t, r, "examen médical obligatoire ?")
	if rep.Topic != "medical-exams" || !strings.Contains(rep.Text, "Examen médical") {
		t.Errorf("topic %q, text %.80q: want the French medical-exams article", rep.Topic, rep.Text)
	}
}
