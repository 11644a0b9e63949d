package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/impbot/impbot/bot"
	"github.com/impbot/impbot/bot/console"
)

func init() {
	commands["chat"] = cmdChat
	commands["ask"] = cmdAsk
}

// localConfig reads --config if given (no adapters are started) and applies
// --knowledge. Terminal use has no rate limit and logs only warnings.
func localConfig(cfgPath, knowledgeDir string) (Config, error) {
	cfg := DefaultConfig()
	cfg.Sessions.Path = "" // in memory unless a config file names a store
	if cfgPath != "" {
		var err error
		cfg, err = LoadConfig(cfgPath, lookupNoAdapters)
		if err != nil {
			return Config{}, err
		}
	}
	if knowledgeDir != "" {
		cfg.Knowledge.Dir = knowledgeDir
	}
	cfg.RateLimit.PerSecond = 0
	if cfg.Log.Level == "info" {
		cfg.Log.Level = "warn"
	}
	return cfg, nil
}

// localApp builds the app for a terminal command.
func localApp(cfgPath, knowledgeDir string, stderr io.Writer) (*App, error) {
	cfg, err := localConfig(cfgPath, knowledgeDir)
	if err != nil {
		return nil, err
	}
	return newApp(cfg, newLogger(stderr, cfg.Log.Level, cfg.Log.Format))
}

// lookupNoAdapters reads the environment but tolerates missing tokens: the
// terminal commands do not start the adapters.
func lookupNoAdapters(name string) (string, bool) {
	v, ok := os.LookupEnv(name)
	if !ok || v == "" {
		return "unused", true
	}
	return v, true
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
	app, err := localApp(*cfgPath, *kdir, stderr)
	if err != nil {
		return err
	}
	defer app.Close()
	if *jsonl {
		return console.RunJSONL(ctx, app.Handler, stdin, stdout)
	}
	return console.Chat(ctx, app.Handler, stdin, stdout, *user)
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
	app, err := localApp(*cfgPath, *kdir, stderr)
	if err != nil {
		return err
	}
	defer app.Close()
	resp, err := app.Handler.Handle(ctx, &bot.Request{Platform: console.Platform, ChatID: "ask", UserID: "ask", Text: text})
	if err != nil {
		return err
	}
	replies := console.NormalizeReplies(resp.Replies)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		var rep bot.Reply
		if len(replies) > 0 {
			rep = replies[0]
		}
		return enc.Encode(console.NormalizeReplies([]bot.Reply{rep})[0])
	}
	for _, rep := range replies {
		fmt.Fprintln(stdout, console.Plain(rep.Text))
		for i, b := range rep.Buttons {
			fmt.Fprintf(stdout, "  [%d] %s\n", i+1, b.Label)
		}
	}
	return nil
}
