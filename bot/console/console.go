// Package console is the terminal adapter: an interactive chat for people
// and a JSON-lines protocol for tools that drive the bot.
package console

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

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

// Handle runs one JSON input through h and returns the output line.
func Handle(ctx context.Context, h bot.Handler, line []byte) Out {
	var in In
	dec := json.NewDecoder(strings.NewReader(string(line)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return Out{Replies: []bot.Reply{}, Error: "malformed input line: " + err.Error()}
	}
	if dec.More() {
		return Out{User: in.User, Replies: []bot.Reply{}, Error: "malformed input line: more than one JSON value"}
	}
	if strings.TrimSpace(in.User) == "" {
		return Out{Replies: []bot.Reply{}, Error: `malformed input line: "user" is required`}
	}
	if in.Text != "" && in.Action != "" {
		return Out{User: in.User, Replies: []bot.Reply{}, Error: `malformed input line: give "text" or "action", not both`}
	}
	req := &bot.Request{Platform: Platform, ChatID: in.User, UserID: in.User, Text: in.Text, Action: in.Action, Lang: in.Lang}
	resp, err := h.Handle(ctx, req)
	if err != nil {
		return Out{User: in.User, Replies: []bot.Reply{}, Error: err.Error()}
	}
	if resp == nil {
		resp = &bot.Response{}
	}
	return Out{User: in.User, Replies: NormalizeReplies(resp.Replies), Dialogue: resp.Dialogue}
}

// RunJSONL reads one JSON object per line from in and writes exactly one JSON
// line per input line to out, in order, flushing after each. Blank lines are
// skipped. It returns at the end of input or when ctx is cancelled.
func RunJSONL(ctx context.Context, h bot.Handler, in io.Reader, out io.Writer) error {
	r := bufio.NewReaderSize(in, 64<<10)
	w := bufio.NewWriter(out)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for ctx.Err() == nil {
		line, tooLong, err := readLine(r, MaxLine)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("read input: %w", err)
		}
		var o Out
		switch {
		case tooLong:
			o = Out{Replies: []bot.Reply{}, Error: fmt.Sprintf("malformed input line: longer than %d bytes", MaxLine)}
		case len(strings.TrimSpace(string(line))) == 0:
			continue
		case !utf8.Valid(line):
			o = Out{Replies: []bot.Reply{}, Error: "malformed input line: not valid UTF-8"}
		default:
			o = Handle(ctx, h, line)
		}
		if err := enc.Encode(o); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
		if err := w.Flush(); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
	}
	return ctx.Err()
}

var (
	linkRE = regexp.MustCompile(`\[([^\]]+)\]\((https?://[^)\s]+)\)`)
	boldRE = regexp.MustCompile(`\*\*([^*]+)\*\*`)
	itRE   = regexp.MustCompile(`(^|\s)_([^_]+)_($|\s|[.,!?])`)
)

// Plain renders the bot's Markdown for a terminal.
func Plain(md string) string {
	s := linkRE.ReplaceAllString(md, "$1 <$2>")
	s = boldRE.ReplaceAllString(s, "$1")
	s = itRE.ReplaceAllString(s, "$1$2$3")
	s = strings.ReplaceAll(s, "\n- ", "\n  • ")
	if strings.HasPrefix(s, "- ") {
		s = "  • " + s[2:]
	}
	return s
}

// Chat runs an interactive session: the user types questions, buttons are
// shown numbered and chosen by typing their number. It returns at the end of
// input, on "/quit", or when ctx is cancelled.
func Chat(ctx context.Context, h bot.Handler, in io.Reader, out io.Writer, user string) error {
	r := bufio.NewReaderSize(in, 64<<10)
	var buttons []bot.Button
	asking := false // a dialogue question is open: typed numbers go to it as text
	show := func(resp *bot.Response) {
		buttons = nil
		if resp == nil {
			return
		}
		asking = resp.Dialogue != nil && !resp.Dialogue.Done
		for _, rep := range resp.Replies {
			fmt.Fprintln(out)
			fmt.Fprintln(out, Plain(rep.Text))
			for _, b := range rep.Buttons {
				buttons = append(buttons, b)
				fmt.Fprintf(out, "  [%d] %s\n", len(buttons), b.Label)
			}
		}
		fmt.Fprintln(out)
	}
	send := func(req *bot.Request) {
		req.Platform, req.ChatID, req.UserID = Platform, user, user
		resp, err := h.Handle(ctx, req)
		if err != nil {
			fmt.Fprintf(out, "\n(error: %v)\n\n", err)
			return
		}
		show(resp)
	}
	send(&bot.Request{Text: "/start"})
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
		if n, err := strconv.Atoi(text); err == nil && !asking && n >= 1 && n <= len(buttons) {
			send(&bot.Request{Action: buttons[n-1].Action})
			continue
		}
		send(&bot.Request{Text: text})
	}
	return ctx.Err()
}
