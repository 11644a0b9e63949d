package main

// `impbot kb stale` and `impbot kb learn`, and the review-overdue count in
// /readyz and the metrics. The logic is in package knowledge.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/impbot/impbot/bot/metrics"
	"github.com/impbot/impbot/knowledge"
)

func init() {
	commands["kb stale"] = cmdKBStale
	commands["kb learn"] = cmdKBLearn
	appHooks = append(appHooks, setupStaleness)
}

// kbDirArg is the knowledge folder of a kb command: the argument, else
// ./knowledge when it exists, else "" (the embedded knowledge).
func kbDirArg(pos []string) string {
	if len(pos) > 0 {
		return pos[0]
	}
	if st, err := os.Stat("knowledge"); err == nil && st.IsDir() {
		return "knowledge"
	}
	return ""
}

func cmdKBStale(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("kb stale", stderr)
	at := fs.String("at", "", "pretend today is this date (YYYY-MM-DD), to see what will be stale")
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
	b, probs := checkKnowledge(kbDirArg(pos))
	if b == nil {
		for _, p := range probs {
			fmt.Fprintln(stdout, p.String())
		}
		return exitError{1}
	}
	items := b.Stale(now)
	for _, s := range items {
		fmt.Fprintln(stdout, s.String())
	}
	fmt.Fprintf(stdout, "%d item(s) overdue for review (articles after %d days, facts after %d), oldest first\n",
		len(items), int(knowledge.ArticleMaxAge.Hours()/24), int(knowledge.FactMaxAge.Hours()/24))
	return nil
}

func cmdKBLearn(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("kb learn", stderr)
	dir := fs.String("knowledge", "knowledge", "knowledge folder to edit")
	lang := fs.String("lang", "", "language of the question (default: detected, en or fr)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		fmt.Fprintln(stderr, `usage: impbot kb learn [--knowledge DIR] [--lang en|fr] "QUESTION" ARTICLE-ID`)
		return exitError{2}
	}
	l := *lang
	if l == "" {
		l = knowledge.GuessLang(pos[0])
	}
	path, err := learn(*dir, l, pos[1], pos[0])
	if errors.Is(err, knowledge.ErrKnownQuestion) {
		fmt.Fprintf(stdout, "%s already has this question: nothing to do\n", path)
		return nil
	}
	if err != nil {
		var ps knowledge.Problems
		if errors.As(err, &ps) {
			for _, p := range ps {
				fmt.Fprintln(stdout, p.String())
			}
			fmt.Fprintln(stdout, "kb check failed: the file was left unchanged")
			return exitError{1}
		}
		return err
	}
	fmt.Fprintf(stdout, "added to %s; kb check: OK\n", path)
	return nil
}

// learn adds a phrasing to an article, then checks the whole folder; when
// the check fails the file is put back as it was and the problems returned.
func learn(dir, lang, id, question string) (string, error) {
	path := fmt.Sprintf("%s/%s/%s.md", dir, lang, id)
	before, err := os.ReadFile(path)
	if err != nil {
		return path, fmt.Errorf("no article %q in %s/%s: %w", id, dir, lang, err)
	}
	if path, err = knowledge.LearnQuestion(dir, lang, id, question); err != nil {
		return path, err
	}
	if _, probs := checkKnowledge(dir); len(probs) > 0 {
		if werr := os.WriteFile(path, before, 0o644); werr != nil {
			return path, fmt.Errorf("kb check failed and the file could not be restored: %w (%v)", werr, probs)
		}
		return path, probs
	}
	return path, nil
}

// setupStaleness exposes how many articles and facts are overdue for review:
// /readyz warns (staying ready) and the metric knowledge_review_overdue
// counts them, for the knowledge being served.
func setupStaleness(a *App) error {
	count := func() int {
		ix := a.Router.Index()
		if ix == nil || ix.Base() == nil {
			return 0
		}
		return len(ix.Base().Stale(time.Now()))
	}
	a.Readiness.add("knowledge_review", func() error {
		if n := count(); n > 0 {
			return readinessWarning{fmt.Errorf("%d article(s) or fact(s) overdue for review: run impbot kb stale", n)}
		}
		return nil
	})
	if st := opsOf(a); st != nil {
		st.metrics.Registry().MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: metrics.Namespace, Name: "knowledge_review_overdue",
			Help: "Articles (180 days) and facts (90 days) of the served knowledge not reviewed in time (impbot kb stale).",
		}, func() float64 { return float64(count()) }))
	}
	return nil
}
