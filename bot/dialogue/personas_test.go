package dialogue

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/impbot/impbot/bot"
	"github.com/impbot/impbot/bot/console"
	"github.com/impbot/impbot/bot/session"
)

// jsonlChat drives the engine through the `chat --jsonl` contract
// (console.RunJSONL) with a small router: /eligibility starts, the engine
// handles the rest while a dialogue runs, and anything else is a FAQ
// answer.
type jsonlChat struct {
	t   *testing.T
	in  *io.PipeWriter
	out *bufio.Scanner
	faq *faqCalls
}

func newJSONLChat(t *testing.T) *jsonlChat {
	t.Helper()
	e := newEngine(t, session.NewMemory(0))
	faq := &faqCalls{}
	h := bot.HandlerFunc(func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
		if strings.HasPrefix(req.Action, bot.ActCommand) {
			req = &bot.Request{Platform: req.Platform, ChatID: req.ChatID, UserID: req.UserID, Lang: req.Lang, Text: "/" + strings.TrimPrefix(req.Action, bot.ActCommand)}
		}
		if cmd, _, ok := bot.ParseCommand(req.Text); ok && cmd == "eligibility" {
			return e.Start(ctx, req)
		}
		resp, ok, err := e.Handle(ctx, req, faq)
		if err != nil || ok {
			return resp, err
		}
		return faq.Handle(ctx, req)
	})
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		err := console.RunJSONL(ctx, h, inR, outW)
		outW.CloseWithError(io.EOF)
		done <- err
	}()
	t.Cleanup(func() {
		inW.Close()
		if err := <-done; err != nil {
			t.Errorf("RunJSONL: %v", err)
		}
		cancel()
	})
	sc := bufio.NewScanner(outR)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	return &jsonlChat{t: t, in: inW, out: sc, faq: faq}
}

func (c *jsonlChat) send(in console.In) console.Out {
	c.t.Helper()
	line, _ := json.Marshal(in)
	if _, err := c.in.Write(append(line, '\n')); err != nil {
		c.t.Fatalf("write: %v", err)
	}
	if !c.out.Scan() {
		c.t.Fatalf("no output for %s: %v", line, c.out.Err())
	}
	var out console.Out
	if err := json.Unmarshal(c.out.Bytes(), &out); err != nil {
		c.t.Fatalf("output %q: %v", c.out.Bytes(), err)
	}
	return out
}

// sentencePersona answers in sentences; answers are consumed in order per
// question, so a persona can answer badly first. midQuestion is typed
// instead of the first answer to the question named midAt.
type sentencePersona struct {
	name, lang        string
	answers           map[string][]string
	midAt, midQ       string
	all, none         []string
	text, notText     []string // in the result (and summary) text
	wantExplainAtFact string   // this question must be explained in other words
}

var sentencePersonas = []sentencePersona{
	{
		name: "Irish, 36, no job offer (the issue's case)", lang: "en",
		answers: map[string][]string{
			"asker": {"it's for me"}, "citizenship": {"I'm Irish"}, "age": {"thirty six"},
			"in_canada": {"no, I'm still in Dublin"}, "job_offer": {"not yet"}, "short_visit": {"nope"},
			"work_kind": {"just a regular job"}, "canadian_graduate": {"no"}, "spouse": {"I'm single"},
		},
		midAt: "job_offer", midQ: "What is the IEC working holiday?",
		all:     []string{"lmia-vs-imp", "oos-permanent-residence-programs", "oos-study-permits", "professional-help"},
		none:    []string{"iec-overview"},
		text:    []string{"the age limit for Ireland is 35; you are 36", "No work permit stream fits", "Summary of the eligibility check", "Age: 36"},
		notText: []string{"the job probably needs an LMIA", "this job probably needs an LMIA"},
	},
	{
		name: "Irish, 27, no job offer", lang: "en",
		answers: map[string][]string{
			"asker": {"I'm the worker"}, "citizenship": {"Ireland"}, "age": {"27 years old"},
			"in_canada": {"nope"}, "job_offer": {"no, still looking"}, "short_visit": {"no"},
			"work_kind": {"something else"}, "canadian_graduate": {"no"}, "spouse": {"no spouse"},
		},
		all:  []string{"iec-overview"},
		none: []string{"lmia-vs-imp"},
		text: []string{"Why it fits", "Citizenship: Ireland", "Age: 27 (limit for Ireland: 35)"},
	},
	{
		name: "Mexican with an offer, not sure the job is on the CUSMA list", lang: "en",
		answers: map[string][]string{
			"asker": {"me"}, "citizenship": {"I'm Mexican"}, "in_canada": {"no, in Monterrey"},
			"job_offer": {"I think so, they sent me an email offer"}, "short_visit": {"no, it's a 2-year contract"},
			"teer": {"no idea"}, "listed_profession": {"not sure"}, "related_company_year": {"no"},
			"french": {"no"}, "work_kind": {"a normal job"}, "exceptional": {"no, it's a normal position"},
			"canadian_graduate": {"nope"}, "spouse": {"single"},
		},
		midAt: "teer", midQ: "What does TEER mean?",
		all:  []string{"cusma-professionals"},
		text: []string{"Depends on what you could not tell me", "Job on the agreement's list of professions", "possible"},
	},
	{
		name: "Ukrainian cook, TEER 3 (issue 18)", lang: "en",
		answers: map[string][]string{
			"asker": {"worker"}, "citizenship": {"Ukrainian"}, "age": {"I'm 41"}, "in_canada": {"yes, in Winnipeg"},
			"job_offer": {"yes I have an offer"}, "short_visit": {"no"}, "teer": {"it's a cook job, TEER 3"},
			"related_company_year": {"no"}, "french": {"no"}, "work_kind": {"regular job"},
			"canadian_graduate": {"no"}, "pr_applicant": {"no"}, "abuse": {"no"}, "spouse": {"none"},
		},
		all:  []string{"lmia-vs-imp"},
		none: []string{"other-ftas", "cptpp", "significant-benefit-c10"},
		text: []string{"this job probably needs an LMIA"},
	},
	{
		name: "Française de 28 ans, cuisinière à Moncton", lang: "fr",
		answers: map[string][]string{
			"asker": {"c'est pour moi"}, "citizenship": {"je suis française"}, "age": {"vingt-huit"},
			"in_canada": {"non, je suis à Lyon"}, "job_offer": {"oui, j'ai une offre"}, "short_visit": {"non"},
			"teer": {"FEER 3"}, "service_contract": {"non, l'employeur canadien m'embauche"}, "related_company_year": {"pas du tout"},
			"french": {"oui, c'est ma langue maternelle"}, "job_in_quebec": {"non, à Moncton"},
			"work_kind": {"un emploi normal"}, "canadian_graduate": {"non"}, "spouse": {"célibataire"},
		},
		midAt: "french", midQ: "C'est quoi le NCLC ?",
		all:  []string{"francophone-mobility-c16", "iec-overview"},
		none: []string{"ceta-cuktca", "lmia-vs-imp"},
		text: []string{"Pourquoi cela correspond", "Récapitulatif"},
	},
	{
		name: "Mexicaine avec une offre, ne sait pas si l'emploi est sur la liste", lang: "fr",
		answers: map[string][]string{
			"asker": {"c'est pour moi"}, "citizenship": {"je suis mexicaine"}, "in_canada": {"non, je suis à Monterrey"},
			"job_offer": {"oui, j'ai une offre"}, "short_visit": {"non"}, "teer": {"je sais pas"},
			"listed_profession": {"pas sûre"}, "related_company_year": {"non"}, "french": {"un peu seulement, non"},
			"work_kind": {"un emploi normal"}, "exceptional": {"non"}, "canadian_graduate": {"non"}, "spouse": {"célibataire"},
		},
		midAt: "listed_profession", midQ: "Où trouver la liste des professions de l'ACEUM ?",
		all:  []string{"cusma-professionals"},
		none: []string{"iec-overview"},
		text: []string{"Dépend de ce que vous n'avez pas pu préciser", "Emploi sur la liste des professions de l'accord", "(possible)", "Citoyenneté : Mexique"},
	},
	{
		name: "German at a 5-day trade fair (issue 18)", lang: "en",
		answers: map[string][]string{
			"asker": {"I'm the worker"}, "citizenship": {"German"}, "age": {"45"}, "in_canada": {"no"},
			"job_offer": {"no"}, "short_visit": {"yes, a 5-day trade fair in Toronto"}, "visit_kind": {"a trade fair"},
			"work_kind": {"regular job"}, "canadian_graduate": {"no"}, "spouse": {"no"},
		},
		all:  []string{"business-visitors"},
		none: []string{"gss-short-term-exemption", "lmia-vs-imp"},
	},
	{
		name: "Filipino staff nurse with an offer (issue 18)", lang: "en",
		answers: map[string][]string{
			"asker": {"worker"}, "citizenship": {"Filipino"}, "in_canada": {"no"}, "job_offer": {"yes"},
			"short_visit": {"no"}, "teer": {"TEER 1"}, "related_company_year": {"no"}, "french": {"no"},
			"work_kind": {"a regular job"}, "exceptional": {"no, I'm a staff nurse"}, "canadian_graduate": {"no"},
			"spouse": {"none"},
		},
		all:  []string{"lmia-vs-imp"},
		none: []string{"significant-benefit-c10"},
	},
	{
		name: "Employer hiring a US engineer", lang: "en",
		answers: map[string][]string{
			"asker": {"we are hiring"}, "citizenship": {"American"}, "in_canada": {"no, she's in Seattle"},
			"job_offer": {"yes"}, "short_visit": {"no"}, "teer": {"TEER 1"},
			"listed_profession": {"yes, engineer is on the list"}, "related_company_year": {"no"},
			"french": {"no"}, "work_kind": {"a regular job"}, "canadian_graduate": {"no"},
		},
		all:  []string{"cusma-professionals", "global-skills-strategy", "employer-steps-portal"},
		none: []string{"lmia-vs-imp"},
		text: []string{"Who is asking: I'm an employer"},
	},
	{
		name: "Korean, 40, hired directly, TEER unknown (issue 18)", lang: "en",
		answers: map[string][]string{
			"asker": {"worker"}, "citizenship": {"South Korean"}, "age": {"forty"}, "in_canada": {"no"},
			"job_offer": {"yes"}, "short_visit": {"no"}, "teer": {"don't know"},
			"service_contract": {"no, the Canadian company hires me directly"}, "related_company_year": {"no"}, "exceptional": {"no"},
			"french": {"no"}, "work_kind": {"regular job"}, "canadian_graduate": {"no"}, "spouse": {"no"},
		},
		all:  []string{"lmia-vs-imp"},
		none: []string{"other-ftas"},
	},
	{
		name: "Cannot answer TEER: explained, then skipped", lang: "en",
		answers: map[string][]string{
			"asker": {"worker"}, "citizenship": {"Indian"}, "in_canada": {"no"}, "job_offer": {"yes"},
			"short_visit": {"no"}, "teer": {"banana", "hmm well", "erm"}, "related_company_year": {"no"},
			"french": {"no"}, "work_kind": {"regular job"}, "exceptional": {"no"}, "canadian_graduate": {"no"}, "spouse": {"no"},
		},
		wantExplainAtFact: "teer",
		all:               []string{"lmia-vs-imp"},
		text:              []string{"TEER of the job: don't know"},
	},
}

// lastParagraph is the question itself, without what precedes it.
func lastParagraph(s string) string {
	parts := strings.Split(strings.TrimSpace(s), "\n\n")
	return parts[len(parts)-1]
}

func TestSentencePersonasThroughChatJSONL(t *testing.T) {
	t.Parallel()
	c := newJSONLChat(t)
	for i, p := range sentencePersonas {
		t.Run(p.name, func(t *testing.T) {
			c.t = t
			user := "sp" + string(rune('a'+i))
			answers := map[string][]string{}
			for k, v := range p.answers {
				answers[k] = append([]string(nil), v...)
			}
			out := c.send(console.In{User: user, Text: "/eligibility", Lang: p.lang})
			var lastQ []string // the question texts seen, for the three-in-a-row check
			var allText strings.Builder
			midDone, explained := false, false
			for step := 0; ; step++ {
				if step > 60 {
					t.Fatal("no end after 60 steps")
				}
				if out.Error != "" || out.Dialogue == nil {
					t.Fatalf("step %d: %+v", step, out)
				}
				for _, r := range out.Replies {
					allText.WriteString(r.Text + "\n")
				}
				if out.Dialogue.Done {
					break
				}
				q := lastParagraph(out.Replies[len(out.Replies)-1].Text)
				lastQ = append(lastQ, q)
				if n := len(lastQ); n >= 3 && lastQ[n-1] == lastQ[n-2] && lastQ[n-2] == lastQ[n-3] {
					t.Fatalf("the same question three times in a row: %q", q)
				}
				ask := out.Dialogue.Ask
				if strings.Contains(out.Replies[len(out.Replies)-1].Text, msg(p.lang, "explain_intro")) {
					explained = true
					if ask != p.wantExplainAtFact {
						t.Errorf("question %s explained, want only %q", ask, p.wantExplainAtFact)
					}
					hasArticle := false
					for _, b := range out.Replies[len(out.Replies)-1].Buttons {
						hasArticle = hasArticle || b.Action == bot.ArticleAction("noc-teer") && b.Label != "noc-teer"
					}
					if ask == "teer" && !hasArticle {
						t.Error("the TEER explanation has no button to the noc-teer article")
					}
				}
				if ask == p.midAt && !midDone {
					midDone = true
					faqBefore := len(c.faq.qs)
					out = c.send(console.In{User: user, Text: p.midQ, Lang: p.lang})
					if len(c.faq.qs) != faqBefore+1 || out.Dialogue == nil || out.Dialogue.Ask != ask || len(out.Replies) != 2 {
						t.Fatalf("question in the middle %q: FAQ calls %d→%d, dialogue %+v", p.midQ, faqBefore, len(c.faq.qs), out.Dialogue)
					}
					continue
				}
				list := answers[ask]
				if len(list) == 0 {
					t.Fatalf("asked %q (%q), which this persona was not expected to be asked", ask, q)
				}
				answers[ask] = list[1:]
				out = c.send(console.In{User: user, Text: list[0], Lang: p.lang})
			}
			if p.midAt != "" && !midDone {
				t.Errorf("never asked %s, where the question in the middle was planned", p.midAt)
			}
			if p.wantExplainAtFact != "" && !explained {
				t.Errorf("question %s never explained in other words", p.wantExplainAtFact)
			}
			got := out.Dialogue.Outcomes
			for _, w := range p.all {
				if !contains(got, w) {
					t.Errorf("missing %s in %v", w, got)
				}
			}
			for _, n := range p.none {
				if contains(got, n) {
					t.Errorf("unexpected %s in %v", n, got)
				}
			}
			text := allText.String()
			final := ""
			for _, r := range out.Replies {
				final += r.Text + "\n"
			}
			for _, w := range p.text {
				if !strings.Contains(final, w) {
					t.Errorf("the result lacks %q:\n%s", w, final)
				}
			}
			for _, w := range p.notText {
				if strings.Contains(text, w) {
					t.Errorf("the conversation says %q:\n%s", w, final)
				}
			}
			// /summary after the end repeats the summary.
			sum := c.send(console.In{User: user, Text: "/summary", Lang: p.lang})
			if len(sum.Replies) != 1 || !strings.Contains(sum.Replies[0].Text, msg(p.lang, "summary_answers")) {
				t.Errorf("/summary after the end: %+v", sum.Replies)
			}
		})
	}
}
