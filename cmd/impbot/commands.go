package main

// The subcommands: each parses its flags and calls bot/service.

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/impbot/impbot/bot/service"
	"github.com/impbot/impbot/knowledge"
)

func init() {
	commands["chat"] = cmdChat
	commands["ask"] = cmdAsk
	commands["serve"] = cmdServe
	commands["kb check"] = cmdKBCheck
	commands["kb test"] = cmdKBTest
	commands["kb export"] = cmdKBExport
	commands["kb why"] = cmdKBWhy
	commands["kb graph"] = cmdKBGraph
	commands["kb gaps"] = cmdKBGaps
	commands["version"] = cmdVersion
}

func cmdChat(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("chat", stderr)
	jsonl := fs.Bool("jsonl", false, "read and write JSON lines (for tools)")
	kdir := fs.String("knowledge", "", "knowledge folder (default: the embedded knowledge)")
	cfgPath := fs.String("config", "", "config file (optional)")
	user := fs.String("user", "you", "user name for the interactive session")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	return service.Chat(ctx, stdin, stdout, stderr, service.ChatOptions{
		ConfigPath: *cfgPath, KnowledgeDir: *kdir, User: *user, JSONL: *jsonl,
	})
}

func cmdAsk(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("ask", stderr)
	asJSON := fs.Bool("json", false, "print the reply as JSON")
	kdir := fs.String("knowledge", "", "knowledge folder (default: the embedded knowledge)")
	cfgPath := fs.String("config", "", "config file (optional)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	text := strings.Join(pos, " ")
	if strings.TrimSpace(text) == "" {
		fmt.Fprintln(stderr, "usage: impbot ask [--json] TEXT")
		return exitError{2}
	}
	return service.Ask(ctx, stdout, stderr, *cfgPath, *kdir, text, *asJSON)
}

func cmdServe(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	cfgPath := fs.String("config", "", "config file (see config.example.yaml)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *cfgPath == "" {
		return service.ServeDemo(ctx, stderr)
	}
	return service.ServeFile(ctx, *cfgPath, stderr)
}

func cmdKBCheck(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("kb check", stderr)
	cfgPath := fs.String("config", "", "config file whose knowledge limits (and folder) to apply")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	dir, lim := "", knowledge.DefaultLimits()
	if *cfgPath != "" {
		if dir, lim, err = service.KnowledgeSettings(*cfgPath); err != nil {
			return err
		}
	}
	if len(pos) > 0 {
		dir = pos[0]
	} else if st, err := os.Stat("knowledge"); dir == "" && err == nil && st.IsDir() {
		dir = "knowledge"
	}
	if service.KBCheckLimits(stdout, dir, lim) > 0 {
		return exitError{1}
	}
	return nil
}

func cmdKBExport(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("kb export", stderr)
	kdir := fs.String("knowledge", "", "knowledge folder (default: the embedded knowledge)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	return service.KBExport(stdout, *kdir)
}

func cmdKBTest(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("kb test", stderr)
	kdir := fs.String("knowledge", "", "knowledge folder (default: the embedded knowledge)")
	quiet := fs.Bool("quiet", false, "print only the summary")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "usage: impbot kb test [--knowledge DIR] FILE.jsonl")
		return exitError{2}
	}
	return service.KBTest(ctx, stdout, stderr, *kdir, pos[0], *quiet)
}

// cmdKBWhy explains how a question is searched (for staff tuning the
// knowledge).
func cmdKBWhy(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("kb why", stderr)
	kdir := fs.String("knowledge", "", "knowledge folder (default: the embedded knowledge)")
	lang := fs.String("lang", "", "language (default: detected)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	text := strings.Join(pos, " ")
	if strings.TrimSpace(text) == "" {
		fs.Usage()
		return exitError{2}
	}
	return service.KBWhy(ctx, stdout, *kdir, *lang, text)
}

func cmdKBGraph(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("kb graph", stderr)
	kdir := fs.String("knowledge", "", "knowledge folder (default: the embedded knowledge)")
	lang := fs.String("lang", "en", "language of the question texts (en, fr)")
	md := fs.Bool("markdown", false, "wrap the chart in a ```mermaid block (for a README or an issue)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	out, probs, err := service.KBGraph(*kdir, *lang, *md)
	if err != nil {
		return err
	}
	if len(probs) > 0 {
		for _, p := range probs {
			fmt.Fprintln(stderr, p.String())
		}
		return exitError{1}
	}
	_, err = io.WriteString(stdout, out)
	return err
}

func cmdKBGaps(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("kb gaps", stderr)
	cfgPath := fs.String("config", "", "config file of the bot (default: the default settings, store data/sessions.db)")
	days := fs.Int("days", 0, "period in days (default: unanswered.retention_days, 30)")
	top := fs.Int("top", 20, "number of question groups to list")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	addr := fs.String("addr", "", "HTTP address of the running `impbot serve` (default: http.addr from the config)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *days < 0 || *days > 3650 || *top < 1 || *top > 1000 {
		fmt.Fprintln(stderr, "kb gaps: --days must be 1..3650 and --top 1..1000")
		return exitError{2}
	}
	return service.KBGaps(ctx, stdout, service.GapsOptions{
		ConfigPath: *cfgPath, Days: *days, Top: *top, JSON: *asJSON, Addr: *addr,
	})
}

func cmdVersion(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("version", stderr)
	kdir := fs.String("knowledge", "", "knowledge folder to hash (default: the embedded knowledge)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	v, err := service.Version(*kdir)
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(stdout, v)
	return err
}
