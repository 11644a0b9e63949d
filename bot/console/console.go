// Package console is the terminal adapter: an interactive chat for people
// and a JSON-lines protocol for tools that drive the bot.
package console

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/impbot/impbot/bot"
)

// Platform is the platform name of requests from the terminal.
const Platform = "console"

// MaxLine bounds one input line; longer lines are rejected, not buffered.
const MaxLine = 1 << 20

// readLine reads one line of at most max bytes. A longer line is consumed
// and reported with tooLong.
func readLine(r *bufio.Reader, max int) (line []byte, tooLong bool, err error) {
	for {
		chunk, isPrefix, err := r.ReadLine()
		if err != nil {
			if errors.Is(err, io.EOF) && (len(line) > 0 || tooLong) {
				return line, tooLong, nil
			}
			return nil, false, err
		}
		if !tooLong {
			if len(line)+len(chunk) > max {
				tooLong = true
				line = nil
			} else {
				line = append(line, chunk...)
			}
		}
		if !isPrefix {
			return line, tooLong, nil
		}
	}
}

// In is one JSON input line.
type In struct {
	User   string `json:"user"`
	Text   string `json:"text"`
	Action string `json:"action"`
	Lang   string `json:"lang,omitempty"`
}

// Out is one JSON output line.
type Out struct {
	User     string             `json:"user"`
	Replies  []bot.Reply        `json:"replies"`
	Dialogue *bot.DialogueState `json:"dialogue"`
	Error    string             `json:"error,omitempty"`
}

// NormalizeReplies makes nil slices empty so the JSON has [] not null.
func NormalizeReplies(rs []bot.Reply) []bot.Reply {
	if rs == nil {
		return []bot.Reply{}
	}
	for i := range rs {
		if rs[i].Suggestions == nil {
			rs[i].Suggestions = []string{}
		}
		if rs[i].Buttons == nil {
			rs[i].Buttons = []bot.Button{}
		}
	}
	return rs
}

// Options configure an interactive session.
type Options struct {
	Style Style
	// Lang is the user's locale ("fr_CA.UTF-8", "en"): it sets the
	// language of the bot's own texts when the user's text does not.
	Lang string
}

// EnvLang is the locale from the environment (LC_ALL, LC_MESSAGES, LANG).
func EnvLang() string {
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := os.Getenv(k); v != "" && v != "C" && v != "POSIX" {
			return v
		}
	}
	return ""
}

// Chat runs an interactive session: the user types questions, buttons are
// shown numbered and chosen by typing their number. It returns at the end of
// input, on "/quit", or when ctx is cancelled. Output is styled and wrapped
// when out is a terminal.
func Chat(ctx context.Context, h bot.Handler, in io.Reader, out io.Writer, user string) error {
	return ChatWith(ctx, h, in, out, user, Options{Style: TerminalStyle(out), Lang: EnvLang()})
}

// key is a button as shown: the number that presses it.
type key struct {
	n int
	b bot.Button
	// value is true when n is the answer's own value (a TEER category):
	// typed, it goes to the dialogue as text and means the same.
	value bool
}

// numberReplies numbers the buttons of a response's replies 1, 2, 3… or,
// on a dialogue question whose options are numbers (TEER 0-5), by their
// values, so that "1" means the same typed or pressed; the other buttons
// take the numbers that are left, in order.
func numberReplies(reps []bot.Reply) [][]key {
	// numericValues returns the reply's answer buttons numbered by value,
	// or nil when its options are not numbers.
	numericValues := func(bs []bot.Button) map[int]bool {
		vals := map[int]bool{}
		for _, b := range bs {
			if v, ok := dialogueValue(b); ok {
				if n, err := strconv.Atoi(v); err == nil && n >= 0 && n < 100 && v == strconv.Itoa(n) {
					vals[n] = true
				}
			}
		}
		if len(vals) == 0 {
			return nil
		}
		return vals
	}
	reserved := map[int]bool{}
	for _, rep := range reps {
		for n := range numericValues(rep.Buttons) {
			reserved[n] = true
		}
	}
	out := make([][]key, len(reps))
	next := 1
	for i, rep := range reps {
		vals := numericValues(rep.Buttons)
		used := map[int]bool{}
		for _, b := range rep.Buttons {
			if v, ok := dialogueValue(b); ok && vals != nil {
				if n, err := strconv.Atoi(v); err == nil && vals[n] && !used[n] {
					used[n] = true
					out[i] = append(out[i], key{n: n, b: b, value: true})
					continue
				}
			}
			for reserved[next] {
				next++
			}
			out[i] = append(out[i], key{n: next, b: b})
			next++
		}
	}
	return out
}

// dialogueValue is the answer a dialogue button gives ("d:teer=1" → "1").
func dialogueValue(b bot.Button) (string, bool) {
	rest, ok := strings.CutPrefix(b.Action, bot.ActDialogue)
	if !ok {
		return "", false
	}
	_, v, ok := strings.Cut(rest, "=")
	return v, ok
}

// ChatWith is Chat with explicit options.
func ChatWith(ctx context.Context, h bot.Handler, in io.Reader, out io.Writer, user string, o Options) error {
	r := bufio.NewReaderSize(in, 64<<10)
	var keys []key
	asking := false // a dialogue question is open: typed answers go to it as text
	show := func(resp *bot.Response) {
		keys = nil
		if resp == nil {
			return
		}
		asking = resp.Dialogue != nil && !resp.Dialogue.Done
		numbered := numberReplies(resp.Replies)
		for i, rep := range resp.Replies {
			fmt.Fprintln(out)
			fmt.Fprintln(out, Render(rep.Text, o.Style))
			for _, k := range numbered[i] {
				keys = append(keys, k)
				label := fmt.Sprintf("  [%d] %s", k.n, k.b.Label)
				if o.Style.Color {
					label = fmt.Sprintf("  \x1b[1m[%d]\x1b[0m %s", k.n, k.b.Label)
				}
				fmt.Fprintln(out, label)
			}
		}
		fmt.Fprintln(out)
	}
	send := func(req *bot.Request) {
		req.Platform, req.ChatID, req.UserID, req.Lang = Platform, user, user, o.Lang
		resp, err := h.Handle(ctx, req)
		if err != nil {
			fmt.Fprintf(out, "\n(error: %v)\n\n", err)
			return
		}
		show(resp)
	}
	send(&bot.Request{Text: "/start"})
	lang := bot.RequestLang(&bot.Request{Lang: o.Lang})
	hint := "Type a question, or the number of a button. /quit or Ctrl-D leaves."
	if lang == "fr" {
		hint = "Tapez une question, ou le numéro d'un bouton. /quit ou Ctrl-D pour quitter."
	}
	fmt.Fprintln(out, Render("_"+hint+"_", o.Style))
	fmt.Fprintln(out)
	for ctx.Err() == nil {
		fmt.Fprint(out, "> ")
		line, tooLong, err := readLine(r, MaxLine)
		if err != nil {
			if errors.Is(err, io.EOF) {
				fmt.Fprintln(out)
				return nil
			}
			return fmt.Errorf("read input: %w", err)
		}
		if tooLong {
			fmt.Fprintln(out, "(that line is too long)")
			continue
		}
		text := strings.TrimSpace(string(line))
		switch text {
		case "":
			continue
		case "/quit", "/exit", "quit", "exit":
			return nil
		}
		if n, err := strconv.Atoi(text); err == nil && text == strconv.Itoa(n) {
			pressed := false
			for _, k := range keys {
				// While a question is open, a number that is an answer's
				// value (or an age, a count) is typed text; the other
				// buttons (Back, Cancel, "I don't know") are pressed.
				if k.n == n && (!asking || (!k.value && !isAnswerIndex(k, keys))) {
					send(&bot.Request{Action: k.b.Action})
					pressed = true
					break
				}
			}
			if pressed {
				continue
			}
		}
		send(&bot.Request{Text: text})
	}
	return ctx.Err()
}

// isAnswerIndex reports whether k is an answer button numbered by position
// (a yes/no or country option), which the dialogue reads from the typed
// number itself.
func isAnswerIndex(k key, keys []key) bool {
	if _, ok := dialogueValue(k.b); !ok {
		return false
	}
	for _, o := range keys {
		if o.value {
			return false // numbered by value: the others are pressed
		}
	}
	return true
}
