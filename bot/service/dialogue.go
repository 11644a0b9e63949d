package service

import (
	"context"
	"fmt"
	"path"
	"sync"
	"time"

	"github.com/impbot/impbot/bot/dialogue"
	"github.com/impbot/impbot/bot/session"
	"github.com/impbot/impbot/knowledge"
)

func init() {
	appHooks = append(appHooks, setupDialogue)
	kbCheckers = append(kbCheckers, checkEligibilityRules)
	serveTasks = append(serveTasks, sweepSessions)
}

// sessionStores remembers each app's session store, for the sweeper task.
var sessionStores sync.Map // *App -> session.Store

// sweepInterval is how often expired sessions are removed from the store.
const sweepInterval = 5 * time.Minute

// rulesName is how problems in the rules file are reported.
func rulesName(a *App) string {
	dir := a.Cfg.Knowledge.Dir
	if dir == "" {
		dir = "knowledge"
	}
	return path.Join(dir, dialogue.File)
}

// setupDialogue plugs the eligibility dialogue into the router: the rules
// from the knowledge, a session store (the shared bbolt file when the config
// names one, else memory), /forget, and hot reload of the rules.
func setupDialogue(a *App) error {
	data, ok := a.Base.Files[dialogue.File]
	if !ok {
		a.Log.Warn("no eligibility rules in the knowledge: /eligibility is off", "file", dialogue.File)
		return nil
	}
	rules, probs := dialogue.Parse(rulesName(a), data, a.Base)
	if len(probs) > 0 {
		return fmt.Errorf("eligibility rules have %d problem(s):\n%w", len(probs), probs)
	}
	idle := time.Duration(a.Cfg.Sessions.IdleTimeout)
	if idle <= 0 {
		idle = session.DefaultIdleTimeout
	}
	store, err := sessionStore(a, idle)
	if err != nil {
		return err
	}
	eng, err := dialogue.New(rules, dialogue.Options{Store: store, Notice: a.Router.Notice, Log: a.Log})
	if err != nil {
		return err
	}
	a.Router.SetDialogue(eng)
	a.Router.AddForgetter(store)
	sessionStores.Store(a, store)
	a.OnClose(func() error { sessionStores.Delete(a); return nil })
	a.OnReload(func(b *knowledge.Base) error {
		data, ok := b.Files[dialogue.File]
		if !ok {
			return fmt.Errorf("the new knowledge has no %s (the eligibility dialogue needs it)", dialogue.File)
		}
		r, probs := dialogue.Parse(rulesName(a), data, b)
		if len(probs) > 0 {
			return fmt.Errorf("eligibility rules have %d problem(s):\n%w", len(probs), probs)
		}
		eng.SetRules(r)
		return nil
	})
	return nil
}

// sessionStore is the configured session store: Redis (shared by the
// replicas), the bbolt file, or memory (terminal use without a config).
func sessionStore(a *App, idle time.Duration) (session.Store, error) {
	r, err := a.Redis()
	if err != nil {
		return nil, fmt.Errorf("session store: %w", err)
	}
	if r != nil {
		return session.NewRedis(r, "sess", idle), nil
	}
	db, err := a.DB()
	if err != nil {
		return nil, fmt.Errorf("session store: %w", err)
	}
	if db != nil {
		return session.NewBolt(db, idle)
	}
	return session.NewMemory(idle), nil
}

// sweepSessions removes expired sessions while serving.
func sweepSessions(ctx context.Context, a *App) error {
	s, ok := sessionStores.Load(a)
	if !ok {
		return nil
	}
	session.Run(ctx, s.(session.Store), sweepInterval, func(err error) {
		a.Log.Warn("session sweep failed", "err", err)
	})
	return nil
}

// checkEligibilityRules validates the rules file of a knowledge folder for
// `impbot kb check`: YAML errors, unknown facts, values, groups and outcome
// IDs, questions no rule needs.
func checkEligibilityRules(b *knowledge.Base, dir string) knowledge.Problems {
	data, ok := b.Files[dialogue.File]
	if !ok {
		return nil
	}
	_, probs := dialogue.Parse(path.Join(dir, dialogue.File), data, b)
	return probs
}

// KBGraph returns the eligibility dialogue of the knowledge folder kdir
// ("" = the embedded knowledge) as a Mermaid chart, with the question texts
// in lang, wrapped in a ```mermaid block when markdown is set. Problems in
// the rules file come back as probs.
func KBGraph(kdir, lang string, markdown bool) (chart string, probs knowledge.Problems, err error) {
	b, err := loadKnowledge(kdir)
	if err != nil {
		return "", nil, err
	}
	dir := kdir
	if dir == "" {
		dir = "knowledge"
	}
	data, ok := b.Files[dialogue.File]
	if !ok {
		return "", nil, fmt.Errorf("%s has no %s", dir, dialogue.File)
	}
	rules, probs := dialogue.Parse(path.Join(dir, dialogue.File), data, b)
	if len(probs) > 0 {
		return "", probs, nil
	}
	out := rules.Mermaid(lang)
	if markdown {
		out = "```mermaid\n" + out + "```\n"
	}
	return out, nil, nil
}
