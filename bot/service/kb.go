package service

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/impbot/impbot/bot"
	"github.com/impbot/impbot/index"
	"github.com/impbot/impbot/knowledge"
)

// kbCheckers validate parts of a knowledge folder beyond the articles (the
// eligibility rules, for instance). Files register theirs in init.
var kbCheckers []func(b *knowledge.Base, dir string) knowledge.Problems

// checkKnowledge loads and validates a folder ("" = embedded) within the
// default limits.
func checkKnowledge(dir string) (*knowledge.Base, knowledge.Problems) {
	return checkKnowledgeLimits(dir, knowledge.DefaultLimits())
}

// checkKnowledgeLimits loads and validates a folder within lim.
func checkKnowledgeLimits(dir string, lim knowledge.Limits) (*knowledge.Base, knowledge.Problems) {
	var b *knowledge.Base
	var probs knowledge.Problems
	name := dir
	if dir == "" {
		b, probs = knowledge.Load(knowledge.Shipped, "knowledge")
		name = "knowledge"
	} else {
		b, probs = knowledge.LoadDirLimits(dir, lim)
	}
	if b == nil {
		return nil, probs
	}
	for _, c := range kbCheckers {
		probs = append(probs, c(b, name)...)
	}
	return b, probs
}

// KBCheck validates a knowledge folder ("" = the embedded knowledge) for
// `impbot kb check`: it prints the problems, or a summary when there are
// none, and returns the number of problems.
func KBCheck(w io.Writer, dir string) int {
	return KBCheckLimits(w, dir, knowledge.DefaultLimits())
}

// KBCheckLimits is KBCheck within lim (a config file's knowledge limits).
func KBCheckLimits(w io.Writer, dir string, lim knowledge.Limits) int {
	b, probs := checkKnowledgeLimits(dir, lim)
	if b != nil {
		for _, p := range b.Skipped {
			fmt.Fprintln(w, "warning: "+p.String())
		}
	}
	for _, p := range probs {
		fmt.Fprintln(w, p.String())
	}
	// Warnings (reviews overdue, rules past their end date) do not fail.
	if b != nil {
		for _, warn := range b.Warnings(time.Now()) {
			fmt.Fprintln(w, warn.String())
		}
	}
	if len(probs) > 0 {
		fmt.Fprintf(w, "%d problem(s)\n", len(probs))
		if b != nil && b.HeldBack() > 0 {
			fmt.Fprintf(w, "%d more held back: they follow from the articles above that could not be loaded "+
				"(references to them); fix those first\n", b.HeldBack())
		}
		return len(probs)
	}
	src := dir
	if src == "" {
		src = "embedded knowledge"
	}
	fmt.Fprintf(w, "%s: %d articles in %d language(s), %d synonym groups: OK\n", src, b.Count(), len(b.Langs()), countSyn(b))
	return 0
}

func countSyn(b *knowledge.Base) int {
	n := 0
	for _, g := range b.Synonyms {
		n += len(g)
	}
	return n
}

// KBExport prints the articles of a knowledge folder ("" = the embedded
// knowledge) as JSON lines, for `impbot kb export`.
func KBExport(stdout io.Writer, kdir string) error {
	b, err := loadKnowledge(kdir)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(stdout)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, lang := range b.Langs() {
		for _, a := range b.Articles[lang] {
			rec := struct {
				ID        string   `json:"id"`
				Lang      string   `json:"lang"`
				Kind      string   `json:"kind"`
				Title     string   `json:"title"`
				Summary   string   `json:"summary"`
				Questions []string `json:"questions"`
				Keywords  []string `json:"keywords"`
				Body      string   `json:"body"`
				Sources   []string `json:"sources"`
				Reviewed  string   `json:"reviewed"`
				Related   []string `json:"related"`
			}{a.ID, a.Lang, a.Kind, a.Title, a.Summary, nonNil(a.Questions), nonNil(a.Keywords), a.Body, nonNil(a.Sources), a.Reviewed, nonNil(a.Related)}
			if err := enc.Encode(rec); err != nil {
				return fmt.Errorf("write: %w", err)
			}
		}
	}
	return w.Flush()
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// EvalCase is one line of a question set.
type EvalCase struct {
	Q      string   `json:"q"`
	Expect []string `json:"expect"`
	Tag    string   `json:"tag,omitempty"`
}

// EvalReport is the outcome of running a question set.
type EvalReport struct {
	InScope, Top1, Top3 int
	// Rejected counts the unrelated questions given no article; Buttons
	// those of them given "did you mean" buttons all the same.
	Unrelated, Rejected    int
	Buttons                int
	Redirects, RedirectsOK int
	Misses                 []string
}

func pct(a, b int) float64 {
	if b == 0 {
		return 100
	}
	return 100 * float64(a) / float64(b)
}

// Top1Rate etc. are percentages.
func (r EvalReport) Top1Rate() float64     { return pct(r.Top1, r.InScope) }
func (r EvalReport) Top3Rate() float64     { return pct(r.Top3, r.InScope) }
func (r EvalReport) RejectRate() float64   { return pct(r.Rejected, r.Unrelated) }
func (r EvalReport) RedirectRate() float64 { return pct(r.RedirectsOK, r.Redirects) }

// ReadEval reads a question set.
func ReadEval(r io.Reader) ([]EvalCase, error) {
	var cases []EvalCase
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var c EvalCase
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		cases = append(cases, c)
	}
	return cases, sc.Err()
}

// Evaluate runs every case through h as a fresh user and scores the answers.
// top-1: the answered article is expected; top-3: an expected article is
// among the answer and the first suggestions; unrelated questions (expect
// empty) must get no article and no suggestion; redirect questions must be
// answered with their redirect article.
func Evaluate(ctx context.Context, h bot.Handler, b *knowledge.Base, cases []EvalCase) (EvalReport, error) {
	var rep EvalReport
	for i, c := range cases {
		resp, err := h.Handle(ctx, &bot.Request{Platform: "eval", ChatID: fmt.Sprint(i), UserID: fmt.Sprint(i), Text: c.Q})
		if err != nil {
			return rep, fmt.Errorf("case %d: %w", i+1, err)
		}
		var r bot.Reply
		if len(resp.Replies) > 0 {
			r = resp.Replies[0]
		}
		cands := []string{}
		if r.Topic != "" {
			cands = append(cands, r.Topic)
		}
		cands = append(cands, r.Suggestions...)
		if len(cands) > 3 {
			cands = cands[:3]
		}
		expect := map[string]bool{}
		redirect := false
		for _, e := range c.Expect {
			expect[e] = true
			if a := b.Article("en", e); a != nil && a.Kind == knowledge.KindRedirect {
				redirect = true
			}
		}
		got := r.Topic
		if got == "" {
			got = "-"
		}
		if len(c.Expect) == 0 {
			rep.Unrelated++
			if r.Topic == "" {
				rep.Rejected++
				if len(r.Suggestions) > 0 {
					rep.Buttons++
					rep.Misses = append(rep.Misses, fmt.Sprintf("unrelated given buttons: %q -> %v (%.2f)", c.Q, r.Suggestions, r.Score))
				}
			} else {
				rep.Misses = append(rep.Misses, fmt.Sprintf("unrelated not rejected: %q -> %s %v (%.2f)", c.Q, got, r.Suggestions, r.Score))
			}
			continue
		}
		rep.InScope++
		ok1 := expect[r.Topic]
		ok3 := false
		for _, id := range cands {
			if expect[id] {
				ok3 = true
			}
		}
		if ok1 {
			rep.Top1++
		}
		if ok3 {
			rep.Top3++
		}
		if redirect {
			rep.Redirects++
			if ok1 {
				rep.RedirectsOK++
			}
		}
		if !ok1 {
			rep.Misses = append(rep.Misses, fmt.Sprintf("miss: %q expected %v got %s %v (%.2f)", c.Q, c.Expect, got, r.Suggestions, r.Score))
		}
	}
	return rep, nil
}

// KBTest runs the question set in path (JSON lines) through the bot built
// on kdir ("" = the embedded knowledge) and prints the misses (unless
// quiet) and the figures, for `impbot kb test`.
func KBTest(ctx context.Context, stdout, stderr io.Writer, kdir, path string, quiet bool) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("question set: %w", err)
	}
	defer f.Close()
	cases, err := ReadEval(f)
	if err != nil {
		return fmt.Errorf("question set %s: %w", path, err)
	}
	cfg, err := localConfig("", kdir)
	if err != nil {
		return err
	}
	app, err := newApp(cfg, newLogger(stderr, "error", "text"))
	if err != nil {
		return err
	}
	defer app.Close()
	rep, err := Evaluate(ctx, app.Handler, app.Base, cases)
	if err != nil {
		return err
	}
	if !quiet {
		for _, m := range rep.Misses {
			fmt.Fprintln(stdout, m)
		}
	}
	fmt.Fprintf(stdout, "questions: %d (in scope %d, unrelated %d, redirect %d)\n", len(cases), rep.InScope, rep.Unrelated, rep.Redirects)
	fmt.Fprintf(stdout, "top-1: %.1f%%  top-3: %.1f%%  unrelated rejected: %.1f%% (%.1f%% with did-you-mean buttons)  redirects: %.1f%%\n",
		rep.Top1Rate(), rep.Top3Rate(), rep.RejectRate(), pct(rep.Buttons, rep.Unrelated), rep.RedirectRate())
	return nil
}

// KBWhy explains how a question is searched: the terms after synonyms and
// typo correction, and the candidates with their signals. For staff tuning
// the knowledge. lang "" detects the language.
func KBWhy(ctx context.Context, stdout io.Writer, kdir, lang, text string) error {
	b, err := loadKnowledge(kdir)
	if err != nil {
		return err
	}
	ix, err := index.Build(b)
	if err != nil {
		return err
	}
	defer ix.Close()
	l := lang
	if l == "" {
		l = bot.DetectLang(text)
	}
	res, err := ix.Search(ctx, l, text, 8)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "lang        %s\n", res.Lang)
	fmt.Fprintf(stdout, "normalised  %q\n", res.Normalized)
	if len(res.Corrections) == 0 {
		fmt.Fprintf(stdout, "corrections none\n")
	}
	for _, c := range res.Corrections {
		fmt.Fprintf(stdout, "corrected   %s -> %s\n", c.From, c.To)
	}
	fmt.Fprintf(stdout, "terms       %v\n", res.Terms)
	fmt.Fprintf(stdout, "domain      known %.2f, anchored %.2f (share of the question's concepts)\n", res.Known, res.Anchored)
	fmt.Fprintf(stdout, "classifier  P(unrelated) %.3f\n", res.None)
	fmt.Fprintf(stdout, "gate        answer from confidence %.2f, \"did you mean\" from %.2f\n", index.AnswerThreshold, index.UnsureThreshold)
	fmt.Fprintf(stdout, "%-34s %7s %6s %5s %8s %5s %7s\n", "candidate (fused order)", "conf", "P", "rank", "bleve", "rank", "fused")
	for _, h := range res.Hits {
		fmt.Fprintf(stdout, "%-34s %7.3f %6.3f %5d %8.3f %5d %7.4f\n", h.ID, h.Confidence, h.Prob, h.RankerRank, h.Score, h.BleveRank, h.Fused)
	}
	verdict := "unrelated: no article"
	if top := res.Top(); top.Confidence >= index.AnswerThreshold {
		verdict = "answer " + top.ID
	} else if top.Confidence >= index.UnsureThreshold {
		verdict = "did you mean (buttons)"
	}
	fmt.Fprintf(stdout, "verdict     %s\n", verdict)
	if top := res.Top(); top.ID != "" {
		passage := "the whole body (no section stands out)"
		if a := b.Article(res.Lang, top.ID); a != nil && top.Section >= 0 && top.Section < len(a.Sections()) {
			passage = fmt.Sprintf("section %q", a.Sections()[top.Section].Heading)
		}
		fmt.Fprintf(stdout, "passage     %s\n", passage)
	}
	return nil
}

// KnowledgeSettings reads the knowledge section of a config file (its
// folder and limits) without the rest: `kb check --config` needs no tokens.
func KnowledgeSettings(path string) (dir string, lim knowledge.Limits, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", lim, fmt.Errorf("read config: %w", err)
	}
	c := DefaultConfig()
	var doc struct {
		Knowledge *struct {
			Dir         *string `yaml:"dir"`
			MaxFileKB   *int    `yaml:"max_file_kb"`
			MaxArticles *int    `yaml:"max_articles"`
			MaxTotalMB  *int    `yaml:"max_total_mb"`
		} `yaml:"knowledge"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return "", lim, fmt.Errorf("%s: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if k := doc.Knowledge; k != nil {
		set := func(dst *int, v *int, key string) {
			if v != nil {
				if *v <= 0 && err == nil {
					err = fmt.Errorf("%s: knowledge.%s: must be at least 1", path, key)
				}
				*dst = *v
			}
		}
		if k.Dir != nil {
			c.Knowledge.Dir = *k.Dir
		}
		set(&c.Knowledge.MaxFileKB, k.MaxFileKB, "max_file_kb")
		set(&c.Knowledge.MaxArticles, k.MaxArticles, "max_articles")
		set(&c.Knowledge.MaxTotalMB, k.MaxTotalMB, "max_total_mb")
	}
	return c.Knowledge.Dir, c.KnowledgeLimits(), err
}
