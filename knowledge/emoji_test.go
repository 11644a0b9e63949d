package knowledge

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestParseEmoji(t *testing.T) {
	m, probs := ParseEmoji("kb/emoji.yaml", []byte("en:\n  \"🎓\": Graduate\n  \"✈️\": travel\n  \"👩‍💻\": software  developer\nfr:\n  \"🎓\": diplômé\n"))
	if len(probs) != 0 {
		t.Fatal(probs)
	}
	if m["en"]["🎓"] != "graduate" || m["fr"]["🎓"] != "diplômé" {
		t.Errorf("words not read: %v", m)
	}
	if m["en"]["✈"] != "travel" {
		t.Errorf("a key is stored without its variation selector: %v", m["en"])
	}
	if m["en"]["👩‍💻"] != "software developer" {
		t.Errorf("ZWJ sequence: %v", m["en"])
	}
}

func TestParseEmojiProblemsNameFileAndLine(t *testing.T) {
	cases := map[string]string{
		"en:\n  abc: letters\n":                     `kb/emoji.yaml:2: "abc" is not an emoji`,
		"en:\n  \"🎓\": \"\"\n":                      `kb/emoji.yaml:2: emoji "🎓" needs the words`,
		"en:\n  \"🎓\": a\n  \"🎓\": b\n":             `kb/emoji.yaml:3: emoji "🎓" already given on line 2`,
		"en:\n  \"✈\": a\n  \"✈️\": b\n":            `already given on line 2`,
		"en: [a, b]\n":                              `kb/emoji.yaml:1: expected a mapping of emoji to words`,
		"english:\n  \"🎓\": a\n":                    `kb/emoji.yaml:1: "english" is not a two-letter language code`,
		"- just\n- a list\n":                        `kb/emoji.yaml:1: expected a mapping of language code`,
		"en:\n  \"🎓\": [a, b]\n":                    `kb/emoji.yaml:2: emoji "🎓" needs the words`,
		"en: {\"🎓\": graduate\n":                    `kb/emoji.yaml:`,
		"en:\n  \"🎓 x\": a\n":                       `is not an emoji`,
		"en:\n  \"🎓\": a\n  \"\\u0001\": control\n": `is not an emoji`,
	}
	for in, want := range cases {
		_, probs := ParseEmoji("kb/emoji.yaml", []byte(in))
		if !strings.Contains(probs.Error(), want) {
			t.Errorf("%q: problems %q lack %q", in, probs.Error(), want)
		}
	}
}

func TestEmojiKey(t *testing.T) {
	for in, want := range map[string]string{
		"✈️":    "✈",
		"👩🏽‍💻":  "👩‍💻",
		"plain": "plain",
		"🇨🇦":    "🇨🇦",
	} {
		if got := EmojiKey(in); got != want {
			t.Errorf("EmojiKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestShippedEmojiLoads(t *testing.T) {
	t.Parallel() // loads or scans on its own
	b, err := LoadShipped()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"en", "fr"} {
		if len(b.Emoji[lang]) < 50 {
			t.Errorf("%s: %d emoji loaded from the shipped emoji.yaml", lang, len(b.Emoji[lang]))
		}
	}
	if b.Emoji["en"]["🍁"] != "canada" {
		t.Errorf("🍁 = %q", b.Emoji["en"]["🍁"])
	}
}

func TestBrokenEmojiFileIsReportedWithLine(t *testing.T) {
	fsys := fstest.MapFS{
		"en/alpha.md": {Data: []byte(good)},
		"emoji.yaml":  {Data: []byte("en:\n  \"🎓\": graduate\n  oops: word\n")},
	}
	_, probs := Load(fsys, "kb")
	if !strings.Contains(probs.Error(), `kb/emoji.yaml:3: "oops" is not an emoji`) {
		t.Errorf("problems: %v", probs)
	}
}
