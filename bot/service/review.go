package service

// Keeping the knowledge true: `kb stale` (reviews overdue), `kb learn` (a
// missed phrasing added to an article) and the overdue count in /readyz and
// the metrics. The file logic is in package knowledge.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/impbot/impbot/bot"
	"github.com/impbot/impbot/bot/insights"
	"github.com/impbot/impbot/bot/metrics"
	"github.com/impbot/impbot/knowledge"
)

// setupStaleness runs after setupOps (ops.go): the files' init functions run
// in file-name order, and it registers its metric on the ops registry.
func init() {
	appHooks = append(appHooks, setupStaleness)
}

// KBStale prints the articles and facts of a knowledge folder ("" = the
// embedded knowledge) overdue for review at now, oldest first, with their
// sources. It returns the number of problems that stopped the folder from
// loading (0 when it loaded).
func KBStale(w io.Writer, dir string, now time.Time) int {
	b, probs := checkKnowledge(dir)
	if b == nil {
		for _, p := range probs {
			fmt.Fprintln(w, p.String())
		}
		return len(probs)
	}
	items := b.Stale(now)
	for _, s := range items {
		fmt.Fprintln(w, s.String())
	}
	fmt.Fprintf(w, "%d item(s) overdue for review (articles after %d days, facts after %d), oldest first\n",
		len(items), int(knowledge.ArticleMaxAge.Hours()/24), int(knowledge.FactMaxAge.Hours()/24))
	return 0
}

// KBLearn adds a phrasing to an article's questions in the knowledge folder
// dir (lang "" = guessed from the question), then checks the whole folder;
// when the check fails the file is put back as it was. It prints what it did
// and returns an error when nothing was added (knowledge.ErrKnownQuestion
// when the article already had it; knowledge.Problems when kb check failed).
func KBLearn(w io.Writer, dir, lang, id, question string) error {
	if lang == "" {
		lang = knowledge.GuessLang(question)
	}
	path, err := Learn(dir, lang, id, question)
	switch {
	case errors.Is(err, knowledge.ErrKnownQuestion):
		fmt.Fprintf(w, "%s already has this question: nothing to do\n", path)
		return err
	case err != nil:
		var ps knowledge.Problems
		if errors.As(err, &ps) {
			for _, p := range ps {
				fmt.Fprintln(w, p.String())
			}
			fmt.Fprintln(w, "kb check failed: the file was left unchanged")
		}
		return err
	}
	fmt.Fprintf(w, "added to %s; kb check: OK\n", path)
	return nil
}

// Learn adds question to the article id in lang of dir and runs kb check on
// the folder, restoring the file if the check fails.
func Learn(dir, lang, id, question string) (string, error) {
	path := filepath.Join(dir, lang, id+".md")
	before, err := os.ReadFile(path)
	if err != nil {
		return path, fmt.Errorf("no article %q in %s: %w", id, filepath.Join(dir, lang), err)
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

// setupStaleness exposes how many articles and facts of the served
// knowledge are overdue for review: /readyz warns (staying ready) and the
// metric knowledge_review_overdue counts them.
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

// lowConfidence: answered questions below this confidence are recorded for
// `kb gaps` with the unanswered ones (the router answers from 0.40).
const lowConfidence = 0.5

// teacher lets staff teach missed phrasings from the Telegram staff chat
// (bot.Teacher): the proposals are the `kb gaps` groups, a confirmation is
// `kb learn` on the served knowledge folder followed by a reload.
type teacher struct{ a *App }

var _ bot.Teacher = teacher{}

func (t teacher) Proposals(ctx context.Context, n int) ([]bot.Proposal, error) {
	st := opsOf(t.a)
	if st == nil || st.insights == nil {
		return nil, errors.New("no record of missed questions")
	}
	days := defaultGapDays(t.a.Cfg)
	rep, err := st.insights.Report(ctx, insights.ReportOptions{Since: time.Now().Add(-time.Duration(days) * 24 * time.Hour), Top: n})
	if err != nil {
		return nil, err
	}
	var out []bot.Proposal
	for _, g := range rep.Questions {
		p := bot.Proposal{Question: g.Text, Count: g.Count, Lang: "en"}
		best := 0
		for l, c := range g.Langs {
			if c > best || (c == best && l < p.Lang) {
				p.Lang, best = l, c
			}
		}
		for _, c := range g.Nearest {
			p.Articles = append(p.Articles, c.ID)
		}
		out = append(out, p)
	}
	return out, nil
}

func (t teacher) Learn(ctx context.Context, question, lang, id string) (string, error) {
	dir := t.a.Cfg.Knowledge.Dir
	if dir == "" {
		return "", errors.New("the bot serves its embedded knowledge: set knowledge.dir to a folder to teach it")
	}
	_, err := Learn(dir, lang, id, question)
	if errors.Is(err, knowledge.ErrKnownQuestion) {
		return fmt.Sprintf("%s/%s already has this question.", lang, id), nil
	}
	if err != nil {
		var ps knowledge.Problems
		if errors.As(err, &ps) {
			return "", fmt.Errorf("kb check failed, the file was left unchanged: %v", ps[0])
		}
		return "", err
	}
	if st := opsOf(t.a); st != nil {
		if err := st.reload("taught from the staff chat"); err != nil {
			return "", fmt.Errorf("added, but the reload failed: %w", err)
		}
	}
	return fmt.Sprintf("Added to %s/%s; kb check OK; knowledge reloaded.", lang, id), nil
}
