package console

import (
	"context"
	"strings"
	"testing"

	"github.com/impbot/impbot/bot"
)

// echo answers with the request it got and two buttons.
var echo = bot.HandlerFunc(func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	what := "text=" + req.Text
	if req.Action != "" {
		what = "action=" + req.Action
	}
	return &bot.Response{Replies: []bot.Reply{{
		Text:    "**got** " + what + " [link](https://example.com/x)",
		Buttons: []bot.Button{{Label: "First", Action: "a:first"}, {Label: "Second", Action: "a:second"}},
	}}}, nil
})

func TestChatNumbersPressButtons(t *testing.T) {
	var out strings.Builder
	in := strings.NewReader("hello\n2\n9\n\n/quit\nnot reached\n")
	if err := Chat(context.Background(), echo, in, &out, "me"); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{
		"got text=/start", "[1] First", "[2] Second", // the greeting
		"got text=hello",      // a question
		"got action=a:second", // "2" pressed the second button
		"got text=9",          // no ninth button: sent as text
		"link <https://example.com/x>",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "not reached") || strings.Contains(s, "**") {
		t.Errorf("unexpected output:\n%s", s)
	}
}

func TestChatNumbersGoToAnOpenDialogueQuestion(t *testing.T) {
	asking := bot.HandlerFunc(func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
		return &bot.Response{
			Replies:  []bot.Reply{{Text: "got " + req.Text + req.Action, Buttons: []bot.Button{{Label: "TEER 0", Action: "d:teer=0"}, {Label: "TEER 1", Action: "d:teer=1"}}}},
			Dialogue: &bot.DialogueState{Ask: "teer", Options: []string{"0", "1"}},
		}, nil
	})
	var out strings.Builder
	if err := Chat(context.Background(), asking, strings.NewReader("1\n"), &out, "me"); err != nil {
		t.Fatal(err)
	}
	// While a dialogue question is open, "1" is the typed answer (TEER 1),
	// not a press of the first button (TEER 0).
	if !strings.Contains(out.String(), "got 1") {
		t.Fatalf("output:\n%s", out.String())
	}
}

func TestJSONLTooLongLine(t *testing.T) {
	var out strings.Builder
	long := `{"user":"u","text":"` + strings.Repeat("a", MaxLine) + `"}` + "\n" + `{"user":"u","text":"hi"}` + "\n"
	if err := RunJSONL(context.Background(), echo, strings.NewReader(long), &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"error"`) || !strings.Contains(lines[1], "text=hi") {
		t.Fatalf("got:\n%s", out.String())
	}
}
