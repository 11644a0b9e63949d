package bot

import (
	"context"
	"testing"
	"unicode/utf8"
)

// FuzzRouterText: any text a user can send gets a reply, never a panic or
// an error, in valid UTF-8.
func FuzzRouterText(f *testing.F) {
	for _, s := range []string{
		"how much is the employer compliance fee?",
		"Combien coûte le PGWP ?",
		"/start", "/help", "/eligibility", "/forget", "/contact", "/ask", "/unknown@other_bot",
		"pgwp~2 AND title:* OR /re.*gex/ ^3 \"phrase",
		"", " ", "\x00", "\xff\xfe", "😀😀😀", "a\u0301\u200d",
	} {
		f.Add(s, "en")
	}
	f.Add("où est mon permis", "fr")
	f.Add("x", "zz")
	f.Fuzz(func(t *testing.T, text, lang string) {
		r := newTestRouter(t, Options{})
		resp, err := r.Handle(context.Background(), &Request{Platform: "fuzz", ChatID: "c", UserID: "u", Text: text, Lang: lang})
		if err != nil {
			t.Fatalf("%q (%s): %v", text, lang, err)
		}
		if resp == nil || len(resp.Replies) == 0 {
			t.Fatalf("%q (%s): no reply", text, lang)
		}
		for _, rep := range resp.Replies {
			if !utf8.ValidString(rep.Text) {
				t.Fatalf("%q (%s): reply not valid UTF-8: %q", text, lang, rep.Text)
			}
		}
	})
}
