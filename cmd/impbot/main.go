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
	"syscall"
)

const usage = `impbot: answers questions about Canada's International Mobility Program.

Usage:
  impbot chat [--jsonl] [--knowledge DIR] [--config FILE]   chat in the terminal (or JSON lines)
  impbot ask [--json] [--knowledge DIR] TEXT               answer one question
  impbot serve --config FILE                               run the Telegram/Discord adapters
  impbot kb check [DIR]                                    validate a knowledge folder
  impbot kb test [--knowledge DIR] FILE.jsonl              measure answers on a question set
  impbot kb export [--knowledge DIR]                       print the articles as JSON lines
  impbot kb graph [--knowledge DIR]                        print the eligibility dialogue as Mermaid
  impbot kb gaps [--config FILE]                           report unanswered questions and feedback
`

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
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	name := args[0]
	rest := args[1:]
	if name == "kb" {
		if len(rest) == 0 {
			fmt.Fprint(stderr, usage)
			return exitError{2}
		}
		name = "kb " + rest[0]
		rest = rest[1:]
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "impbot: unknown command %q\n\n%s", name, usage)
		return exitError{2}
	}
	return cmd(ctx, rest, stdin, stdout, stderr)
}

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
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
