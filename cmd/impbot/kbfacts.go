package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/impbot/impbot/bot/service"
	"github.com/impbot/impbot/knowledge"
)

func init() {
	commands["kb stale"] = cmdKBStale
	commands["kb learn"] = cmdKBLearn
}

func cmdKBStale(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("kb stale", stderr)
	at := fs.String("at", "", "pretend today is this date (YYYY-MM-DD), to see what will be overdue")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	now := time.Now()
	if *at != "" {
		if now, err = time.Parse(time.DateOnly, *at); err != nil {
			fmt.Fprintf(stderr, "kb stale: --at %q is not a date (YYYY-MM-DD)\n", *at)
			return exitError{2}
		}
	}
	dir := ""
	if len(pos) > 0 {
		dir = pos[0]
	} else if st, err := os.Stat("knowledge"); err == nil && st.IsDir() {
		dir = "knowledge"
	}
	if service.KBStale(stdout, dir, now) > 0 {
		return exitError{1}
	}
	return nil
}

func cmdKBLearn(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("kb learn", stderr)
	dir := fs.String("knowledge", "knowledge", "knowledge folder to edit")
	lang := fs.String("lang", "", "language of the question (default: guessed, en or fr)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		fmt.Fprintln(stderr, `usage: impbot kb learn [--knowledge DIR] [--lang en|fr] "QUESTION" ARTICLE-ID`)
		return exitError{2}
	}
	err = service.KBLearn(stdout, *dir, *lang, pos[1], pos[0])
	var ps knowledge.Problems
	switch {
	case errors.Is(err, knowledge.ErrKnownQuestion):
		return nil
	case errors.As(err, &ps):
		return exitError{1}
	}
	return err
}
