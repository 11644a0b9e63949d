package service

// The terminal commands: `impbot chat` and `impbot ask` build the app
// without the adapters, from an optional config file.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/impbot/impbot/bot"
	"github.com/impbot/impbot/bot/console"
)

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

// LocalApp builds the app for a terminal command from an optional config
// file and knowledge folder; it logs to stderr.
func LocalApp(cfgPath, knowledgeDir string, stderr io.Writer) (*App, error) {
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

func newLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// ChatOptions are the settings of `impbot chat`.
type ChatOptions struct {
	ConfigPath   string // optional config file
	KnowledgeDir string // "" = the embedded knowledge
	User         string // user name for the interactive session
	JSONL        bool   // read and write JSON lines (for tools)
}

// Chat runs a conversation in the terminal (or JSON lines) until stdin ends
// or ctx is cancelled.
func Chat(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, o ChatOptions) error {
	app, err := LocalApp(o.ConfigPath, o.KnowledgeDir, stderr)
	if err != nil {
		return err
	}
	defer app.Close()
	if o.JSONL {
		return console.RunJSONL(ctx, app.Handler, stdin, stdout)
	}
	return console.Chat(ctx, app.Handler, stdin, stdout, o.User)
}

// Ask answers one question on stdout, as text or (asJSON) as the first
// reply in JSON.
func Ask(ctx context.Context, stdout, stderr io.Writer, cfgPath, knowledgeDir, text string, asJSON bool) error {
	app, err := LocalApp(cfgPath, knowledgeDir, stderr)
	if err != nil {
		return err
	}
	defer app.Close()
	resp, err := app.Handler.Handle(ctx, &bot.Request{Platform: console.Platform, ChatID: "ask", UserID: "ask", Text: text})
	if err != nil {
		return err
	}
	replies := console.NormalizeReplies(resp.Replies)
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		var rep bot.Reply
		if len(replies) > 0 {
			rep = replies[0]
		}
		return enc.Encode(console.NormalizeReplies([]bot.Reply{rep})[0])
	}
	style := console.TerminalStyle(stdout)
	for _, rep := range replies {
		fmt.Fprintln(stdout, console.Render(rep.Text, style))
		for i, b := range rep.Buttons {
			fmt.Fprintf(stdout, "  [%d] %s\n", i+1, b.Label)
		}
	}
	return nil
}
