package index

import (
	"strings"
	"testing"
)

func TestEmojiStandForTheirWords(t *testing.T) {
	ix := shipped(t)
	// Each emoji question must land where the same words land: the emoji
	// are read as emoji.yaml's words, nothing more.
	for _, c := range []struct{ emoji, words string }{
		{"🎓 ➡️ 💼 🇨🇦 ?", "graduate work canada ?"},
		{"💍 💼 permit", "married spouse work permit"},
		{"👩🏽‍💻 CUSMA", "software developer CUSMA"},
		{"⏳ PGWP", "processing time PGWP"},
	} {
		got, want := top(t, ix, c.emoji), top(t, ix, c.words)
		if got.ID == "" || got.ID != want.ID {
			t.Errorf("%q answered %q; its words %q answer %q", c.emoji, got.ID, c.words, want.ID)
		}
	}
	if got := ix.EmojiWords("en", "👩🏽‍💻"); strings.TrimSpace(got) != "software developer" {
		t.Errorf("a ZWJ sequence with a skin tone must be read whole: %q", got)
	}
	if got := ix.EmojiWords("fr", "🎓"); strings.TrimSpace(got) != "diplômé études" {
		t.Errorf("French words for French questions: %q", got)
	}
	if got := ix.EmojiWords("en", "no emoji here"); got != "no emoji here" {
		t.Errorf("plain text changed: %q", got)
	}
	if got := ix.EmojiWords("xx", "🎓"); got != "🎓" {
		t.Errorf("unknown language: %q", got)
	}
}

func TestUnlistedEmojiStayNoise(t *testing.T) {
	ix := shipped(t)
	if got := ix.EmojiWords("en", "😀🎉"); strings.TrimSpace(Normalize(got)) != "" {
		t.Errorf("unlisted emoji must stay noise: %q", got)
	}
}
