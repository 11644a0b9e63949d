// Command impbot is a chat assistant for Canada's International Mobility
// Program (LMIA-exempt work permits), on Telegram, Discord and the terminal.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
)

// usageLines lists every command: its synopsis and what it does. The
// usage text and each command's -h come from it.
var usageLines = []struct{ name, args, what string }{
	{"chat", "[--jsonl] [--knowledge DIR] [--config FILE] [--user NAME]", "chat in the terminal (or JSON lines)"},
	{"ask", "[--json] [--knowledge DIR] [--config FILE] TEXT", "answer one question"},
	{"serve", "[--config FILE]", "run the adapters and the HTTP server (no config: the web chat demo on 127.0.0.1:8080)"},
	{"kb check", "[DIR]", "validate a knowledge folder"},
	{"kb test", "[--knowledge DIR] [--quiet] FILE.jsonl", "measure answers on a question set"},
	{"kb export", "[--knowledge DIR]", "print the articles as JSON lines"},
	{"kb why", "[--knowledge DIR] [--lang LANG] TEXT", "show how a question is searched (terms, candidates, signals)"},
	{"kb graph", "[--knowledge DIR] [--lang LANG] [--markdown]", "print the eligibility dialogue as Mermaid"},
	{"kb gaps", "[--config FILE] [--days N] [--top N] [--json] [--addr HOST:PORT]", "report unanswered and low-confidence questions, and feedback"},
	{"kb stale", "[--at YYYY-MM-DD] [DIR]", "list the articles and facts overdue for review, oldest first"},
	{"kb learn", "[--knowledge DIR] [--lang en|fr] QUESTION ARTICLE-ID", "add a phrasing to an article's questions, then check the folder"},
	{"version", "[--knowledge DIR]", "print the version and the knowledge's hash"},
}

func usageText() string {
	var b strings.Builder
	b.WriteString("impbot: answers questions about Canada's International Mobility Program.\n\nUsage:\n")
	for _, u := range usageLines {
		fmt.Fprintf(&b, "  impbot %s\n        %s\n", strings.TrimSpace(u.name+" "+u.args), u.what)
	}
	b.WriteString("\n`impbot COMMAND -h` lists a command's flags. Start with `impbot chat`.\n")
	return b.String()
}

// exitError carries an exit code through run.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

func main() {
	// The heap is small (tens of MB) and answers allocate briefly: collect
	// less often to keep latency tails short, unless GOGC is set.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first signal starts an orderly shutdown; a second one ends the
	// process at once.
	go func() { <-ctx.Done(); stop() }()
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		fmt.Fprintln(os.Stderr, "impbot:", err)
		os.Exit(1)
	}
}

// commands maps a command path to its implementation. Other files register
// theirs in init.
var commands = map[string]func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error{}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText())
		return exitError{2}
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usageText())
		return nil
	}
	name := args[0]
	rest := args[1:]
	if name == "kb" {
		if len(rest) == 0 {
			fmt.Fprint(stderr, usageText())
			return exitError{2}
		}
		if rest[0] == "-h" || rest[0] == "--help" || rest[0] == "help" {
			fmt.Fprint(stdout, usageText())
			return nil
		}
		name = "kb " + rest[0]
		rest = rest[1:]
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "impbot: unknown command %q\n\n%s", name, usageText())
		return exitError{2}
	}
	return cmd(ctx, rest, stdin, stdout, stderr)
}

// newFlags returns the flag set of a command; -h prints its synopsis, what
// it does and its flags.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		for _, u := range usageLines {
			if u.name == name {
				fmt.Fprintf(stderr, "usage: impbot %s\n\n%s.\n", strings.TrimSpace(u.name+" "+u.args), capitalize(u.what))
			}
		}
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(stderr, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// parseFlags parses flags anywhere among the arguments (flag stops at the
// first non-flag; people type `ask "question" --json`).
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, exitError{0}
			}
			return nil, exitError{2}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
