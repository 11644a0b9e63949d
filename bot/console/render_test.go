package console

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/impbot/impbot/bot"
)

var ansiRE = regexp.MustCompile("\x1b\\[[0-9;]*m")

const article = "**Post-Graduation Work Permit (PGWP, C43)**\n" +
	"The PGWP is an open work permit for graduates of an eligible program of 8 months or more at a PGWP-eligible Canadian school.\n\n" +
	"Main conditions:\n" +
	"- a PGWP-eligible program at a designated learning institution (DLI), at least 8 months long (900 hours in Quebec);\n" +
	"- apply within 180 days.\n\n" +
	"Sources: [IRCC](https://www.canada.ca/en/immigration-refugees-citizenship/services/study-canada/work/after-graduation/about.html)\n" +
	"Reviewed 2026-11-25. _General information, not legal advice. Talk to a person: /contact._"

func TestRenderWrapsToTheWidth(t *testing.T) {
	for _, width := range []int{40, 60, 100} {
		out := Render(article, Style{Width: width})
		for _, line := range strings.Split(out, "\n") {
			// A lone word longer than the width (the address) may overflow.
			if w := textWidth(line); w > width && strings.Contains(strings.TrimSpace(line), " ") {
				t.Errorf("width %d: line of %d columns: %q", width, w, line)
			}
		}
		if !strings.Contains(out, "  • a PGWP-eligible") || !strings.Contains(out, "\n    ") {
			t.Errorf("width %d: list item without its bullet or hanging indent:\n%s", width, out)
		}
		if strings.Contains(out, "**") || strings.Contains(out, "](") || strings.Contains(out, "\x1b") {
			t.Errorf("width %d: Markdown or ANSI left in plain output:\n%s", width, out)
		}
	}
	// No width: no wrapping; the list stays right under its paragraph.
	out := Render(article, Style{})
	if !strings.Contains(out, "Main conditions:\n  • a PGWP-eligible program at a designated learning institution (DLI), at least 8 months long (900 hours in Quebec);\n") {
		t.Errorf("unwrapped:\n%s", out)
	}
	if !strings.Contains(out, "IRCC <https://www.canada.ca/") {
		t.Errorf("link not shown as label <address>:\n%s", out)
	}
}

func TestRenderStylesOnlyWithColor(t *testing.T) {
	out := Render(article, Style{Width: 80, Color: true})
	if !strings.Contains(out, "\x1b[1mPost-Graduation") {
		t.Errorf("title not bold:\n%q", out)
	}
	if !strings.Contains(out, "\x1b[2;3mGeneral") {
		t.Errorf("notice not dim:\n%q", out)
	}
	if plain := ansiRE.ReplaceAllString(out, ""); plain != Render(article, Style{Width: 80}) {
		t.Errorf("styles changed the text:\n%s\n---\n%s", plain, Render(article, Style{Width: 80}))
	}
	if st := TerminalStyle(&strings.Builder{}); st.Color || st.Width != 0 {
		t.Errorf("not a terminal: %+v", st)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if st := TerminalStyle(w); st.Color || st.Width != 0 {
		t.Errorf("a pipe: %+v", st)
	}
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if st := ttyStyle(120, env(nil)); !st.Color || st.Width != 100 {
		t.Errorf("terminal: %+v", st)
	}
	if st := ttyStyle(50, env(map[string]string{"NO_COLOR": "1"})); st.Color || st.Width != 50 {
		t.Errorf("NO_COLOR: %+v", st)
	}
	if st := ttyStyle(0, env(map[string]string{"TERM": "dumb", "COLUMNS": "70"})); st.Color || st.Width != 70 {
		t.Errorf("dumb terminal: %+v", st)
	}
}

func TestRenderKeepsFrenchPunctuationOnTheLine(t *testing.T) {
	text := "Quelle est la catégorie FEER (TEER) de l'emploi au Canada (CNP 2021) ? Si vous ne savez pas, choisissez « Je ne sais pas » : facile !"
	for width := 10; width <= 60; width++ {
		for _, line := range strings.Split(Render(text, Style{Width: width}), "\n") {
			if l := strings.TrimSpace(line); strings.HasPrefix(l, "?") || strings.HasPrefix(l, "!") || strings.HasPrefix(l, ":") || strings.HasPrefix(l, "»") {
				t.Errorf("width %d: a line starts with punctuation: %q", width, line)
			}
		}
	}
}

func TestChatSaysHowToQuit(t *testing.T) {
	var out strings.Builder
	if err := ChatWith(context.Background(), echo, strings.NewReader(""), &out, "me", Options{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "/quit or Ctrl-D leaves") {
		t.Errorf("no quit hint:\n%s", out.String())
	}
	out.Reset()
	if err := ChatWith(context.Background(), echo, strings.NewReader(""), &out, "me", Options{Lang: "fr_CA.UTF-8"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "/quit ou Ctrl-D pour quitter") {
		t.Errorf("no French quit hint:\n%s", out.String())
	}
}

// TestChatNumbersNumericOptionsByValue: on a question whose options are
// numbers (TEER 0-5), the buttons are numbered by value, so "1" is TEER 1
// typed or pressed; the other buttons follow and are pressed by number.
func TestChatNumbersNumericOptionsByValue(t *testing.T) {
	var got []string
	teer := bot.HandlerFunc(func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
		got = append(got, req.Text+req.Action)
		var bs []bot.Button
		for _, v := range []string{"0", "1", "2", "3", "4", "5"} {
			bs = append(bs, bot.Button{Label: "TEER " + v, Action: "d:teer=" + v})
		}
		bs = append(bs, bot.Button{Label: "I don't know", Action: "d:teer=unknown"},
			bot.Button{Label: "Back", Action: bot.CommandAction("back")})
		return &bot.Response{Replies: []bot.Reply{{Text: "TEER?", Buttons: bs}}, Dialogue: &bot.DialogueState{Ask: "teer"}}, nil
	})
	var out strings.Builder
	if err := ChatWith(context.Background(), teer, strings.NewReader("1\n0\n6\n7\n"), &out, "me", Options{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"[0] TEER 0", "[1] TEER 1", "[5] TEER 5", "[6] I don't know", "[7] Back"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	want := []string{"/start", "1", "0", "d:teer=unknown", "c:back"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("requests %q, want %q", got, want)
	}
	// Options that are not numbers keep 1, 2, 3…; Back is pressed by number.
	got = nil
	yesno := bot.HandlerFunc(func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
		got = append(got, req.Text+req.Action)
		return &bot.Response{Replies: []bot.Reply{{Text: "In Canada?", Buttons: []bot.Button{{Label: "Yes", Action: "d:in_canada=yes"},
			{Label: "No", Action: "d:in_canada=no"}, {Label: "Back", Action: bot.CommandAction("back")}}}}, Dialogue: &bot.DialogueState{Ask: "in_canada"}}, nil
	})
	out.Reset()
	if err := ChatWith(context.Background(), yesno, strings.NewReader("2\n3\n"), &out, "me", Options{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "[1] Yes") || strings.Join(got, "|") != "/start|2|c:back" {
		t.Errorf("yes/no: requests %q\n%s", got, out.String())
	}
}

// TestChatNumbersNeverCollide: an answer given during the check comes
// with the question again; the question's numbers by value (TEER 0-5) are
// kept, and the answer's buttons take the numbers left.
func TestChatNumbersNeverCollide(t *testing.T) {
	var got []string
	h := bot.HandlerFunc(func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
		got = append(got, req.Text+req.Action)
		return &bot.Response{Replies: []bot.Reply{
			{Text: "An answer.", Buttons: []bot.Button{{Label: "Related", Action: "a:bowp"}, {Label: "Helpful", Action: "f:+:pgwp"}}},
			{Text: "TEER?", Buttons: []bot.Button{{Label: "TEER 0", Action: "d:teer=0"}, {Label: "TEER 1", Action: "d:teer=1"},
				{Label: "Back", Action: bot.CommandAction("back")}}},
		}, Dialogue: &bot.DialogueState{Ask: "teer"}}, nil
	})
	var out strings.Builder
	if err := ChatWith(context.Background(), h, strings.NewReader("1\n2\n"), &out, "me", Options{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"[2] Related", "[3] Helpful", "[0] TEER 0", "[1] TEER 1", "[4] Back"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Join(got, "|") != "/start|1|a:bowp" {
		t.Errorf("requests %q", got)
	}
}
