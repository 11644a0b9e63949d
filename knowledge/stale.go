package knowledge

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// How long a reviewed date stays fresh: articles are re-read against their
// sources twice a year, facts (fees, codes, age limits) every quarter.
const (
	ArticleMaxAge = 180 * 24 * time.Hour
	FactMaxAge    = 90 * 24 * time.Hour
)

// StaleItem is an article or a fact whose review is overdue.
type StaleItem struct {
	Kind     string // "article" or "fact"
	Name     string // article ID (with its language) or fact name
	File     string
	Line     int
	Reviewed time.Time
	Days     int // days since the review
	Sources  []string
}

func (s StaleItem) String() string {
	return fmt.Sprintf("%s:%d: %s %s last reviewed %s (%d days ago); sources: %s",
		s.File, s.Line, s.Kind, s.Name, s.Reviewed.Format(time.DateOnly), s.Days, strings.Join(s.Sources, " "))
}

// Stale lists the articles not reviewed for ArticleMaxAge and the facts not
// reviewed for FactMaxAge at now, oldest review first.
func (b *Base) Stale(now time.Time) []StaleItem {
	var out []StaleItem
	days := func(t time.Time) int { return int(now.Sub(t).Hours() / 24) }
	for _, lang := range b.Langs() {
		for _, a := range b.Articles[lang] {
			t, err := time.Parse(time.DateOnly, a.Reviewed)
			if err != nil || now.Sub(t) <= ArticleMaxAge {
				continue
			}
			out = append(out, StaleItem{Kind: "article", Name: lang + "/" + a.ID, File: a.File, Line: a.Line("reviewed"),
				Reviewed: t, Days: days(t), Sources: a.Sources})
		}
	}
	for _, f := range b.Facts.All() {
		t, err := time.Parse(time.DateOnly, f.Reviewed)
		if err != nil || now.Sub(t) <= FactMaxAge {
			continue
		}
		out = append(out, StaleItem{Kind: "fact", Name: f.Name, File: b.Facts.File, Line: f.Line,
			Reviewed: t, Days: days(t), Sources: []string{f.Source}})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Reviewed.Equal(out[j].Reviewed) {
			return out[i].Reviewed.Before(out[j].Reviewed)
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Warnings are findings that do not stop the knowledge from loading:
// overdue reviews, and facts whose rule has stopped applying (an `until`
// date in the past, such as the end of an IEC season).
func (b *Base) Warnings(now time.Time) Problems {
	var ws Problems
	for _, s := range b.Stale(now) {
		limit := 180
		if s.Kind == "fact" {
			limit = 90
		}
		ws = append(ws, Problem{File: s.File, Line: s.Line, Message: fmt.Sprintf(
			"warning: %s %s not reviewed for %d days (limit %d); check it against %s and update reviewed",
			s.Kind, s.Name, s.Days, limit, strings.Join(s.Sources, " "))})
	}
	for _, lang := range b.Langs() {
		for _, a := range b.Articles[lang] {
			if t, err := time.Parse(time.DateOnly, a.Until); err == nil && now.After(t.Add(24*time.Hour)) {
				ws = append(ws, Problem{File: a.File, Line: a.Line("until"), Message: fmt.Sprintf(
					"warning: article %s/%s describes a rule that stopped applying on %s (until): update or retire it", lang, a.ID, a.Until)})
			}
		}
	}
	for _, f := range b.Facts.All() {
		if f.Until == "" {
			continue
		}
		t, err := time.Parse(time.DateOnly, f.Until)
		if err != nil || !now.After(t.Add(24*time.Hour)) {
			continue
		}
		users := b.factUsers(f.Name)
		msg := fmt.Sprintf("warning: fact %s stopped applying on %s (until); answers that use it are out of date", f.Name, f.Until)
		if len(users) > 0 {
			msg += ": " + strings.Join(users, ", ")
		}
		ws = append(ws, Problem{File: b.Facts.File, Line: f.Line, Message: msg})
	}
	return ws
}

// factUsers lists the articles (lang/id) that refer to the fact.
func (b *Base) factUsers(name string) []string {
	var out []string
	for _, lang := range b.Langs() {
		for _, a := range b.Articles[lang] {
			for _, r := range a.Facts {
				if r == name || strings.HasPrefix(r, name+".") {
					out = append(out, lang+"/"+a.ID)
					break
				}
			}
		}
	}
	return out
}
