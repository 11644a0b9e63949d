package bot_test

import (
	"os"
	"testing"

	"github.com/impbot/impbot/bot"
	"github.com/impbot/impbot/bot/service"
	"github.com/impbot/impbot/knowledge"
)

// TestOtherLangNeverTakesEnglishOrFrench: no text of the knowledge (titles,
// summaries, questions, keywords, in both languages) and no question of the
// development sets is taken for Spanish or Portuguese, so the "I answer in
// English and French" reply can never replace an answer.
func TestOtherLangNeverTakesEnglishOrFrench(t *testing.T) {
	b, err := knowledge.LoadShipped()
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, lang := range b.Langs() {
		for _, a := range b.Articles[lang] {
			texts = append(texts, a.Title, a.Summary)
			texts = append(texts, a.Questions...)
			texts = append(texts, a.Keywords...)
		}
	}
	n := len(texts)
	for _, f := range []string{"dev.jsonl", "dev-fr.jsonl", "questions-extra.jsonl"} {
		fh, err := os.Open("../cmd/impbot/testdata/" + f)
		if err != nil {
			t.Fatal(err)
		}
		cases, err := service.ReadEval(fh)
		fh.Close()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, c := range cases {
			texts = append(texts, c.Q)
		}
	}
	if n < 5000 || len(texts) < n+400 {
		t.Fatalf("only %d knowledge texts and %d development questions", n, len(texts)-n)
	}
	for _, s := range texts {
		if l := bot.OtherLang(s); l != "" {
			t.Errorf("%q taken for %s", s, l)
		}
	}
}
