package telegram

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/impbot/impbot/bot"
)

// Teaching from the staff chat: "/gaps" lists the most frequent missed
// questions, each with a button per likely article; one tap adds the
// phrasing to that article (kb learn) and reloads the knowledge. Only the
// question text is shown, never who asked.

// actTeach is a teach button: kl:<token>:<article index>.
const actTeach = "kl:"

// teachTTL is how long the buttons of a /gaps list stay usable.
const teachTTL = 24 * time.Hour

// maxProposals bounds the questions listed by /gaps.
const maxProposals = 5

type teaching struct {
	mu      sync.Mutex
	pending map[string]teachItem
}

type teachItem struct {
	p       bot.Proposal
	created time.Time
}

func (tc *teaching) put(p bot.Proposal) string {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	now := time.Now()
	for k, it := range tc.pending {
		if now.Sub(it.created) > teachTTL {
			delete(tc.pending, k)
		}
	}
	id := newID()
	tc.pending[id] = teachItem{p: p, created: now}
	return id
}

func (tc *teaching) get(id string) (bot.Proposal, bool) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	it, ok := tc.pending[id]
	if !ok || time.Since(it.created) > teachTTL {
		return bot.Proposal{}, false
	}
	return it.p, true
}

// isGapsCommand reports whether a staff message is /gaps (or /gaps@bot).
func (a *Adapter) isGapsCommand(text string) bool {
	cmd, _, _ := strings.Cut(strings.TrimSpace(text), " ")
	name, at, _ := strings.Cut(cmd, "@")
	return name == "/gaps" && (at == "" || strings.EqualFold(at, a.self().UserName))
}

// onGaps lists the proposals in the staff chat.
func (a *Adapter) onGaps(replyTo int) {
	if a.cfg.Teacher == nil {
		a.ho.sendStaff("Teaching is not available: the bot has no record of missed questions.", replyTo, nil, "")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.t.HandleTimeout)
	defer cancel()
	ps, err := a.cfg.Teacher.Proposals(ctx, maxProposals)
	if err != nil {
		a.log.Warn("teach: cannot list the missed questions", "err", err)
		a.ho.sendStaff("Cannot list the missed questions right now.", replyTo, nil, "")
		return
	}
	if len(ps) == 0 {
		a.ho.sendStaff("No missed questions recorded in the period. 🎉", replyTo, nil, "")
		return
	}
	for _, p := range ps {
		if len(p.Articles) == 0 {
			continue
		}
		tok := a.teach.put(p)
		var rows [][]tgbotapi.InlineKeyboardButton
		for i, id := range p.Articles {
			if i == 3 {
				break
			}
			rows = append(rows, tgbotapi.NewInlineKeyboardRow(
				tgbotapi.NewInlineKeyboardButtonData("➕ "+id, actTeach+tok+":"+strconv.Itoa(i))))
		}
		text := fmt.Sprintf("❓ <b>%d×</b> (%s) %s\n\n<i>Tap the article this question belongs to: the phrasing is added to it and the knowledge reloads.</i>",
			p.Count, Escape(p.Lang), Escape(p.Question))
		a.ho.sendStaff(text, replyTo, tgbotapi.NewInlineKeyboardMarkup(rows...), "")
	}
}

// onTeach handles a tap on a teach button.
func (a *Adapter) onTeach(q *tgbotapi.CallbackQuery, data string) {
	tok, idx, ok := strings.Cut(data, ":")
	i, err := strconv.Atoi(idx)
	p, known := a.teach.get(tok)
	if !ok || err != nil || !known || i < 0 || i >= len(p.Articles) || a.cfg.Teacher == nil {
		a.ho.sendStaff("This list has expired: send /gaps again.", q.Message.MessageID, nil, "")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.t.HandleTimeout)
	defer cancel()
	msg, err := a.cfg.Teacher.Learn(ctx, p.Question, p.Lang, p.Articles[i])
	if err != nil {
		a.ho.sendStaff("❌ Not added: "+Escape(err.Error()), q.Message.MessageID, nil, "")
		return
	}
	a.log.Info("staff taught a phrasing", "article", p.Articles[i])
	a.ho.sendStaff("✅ "+Escape(msg), q.Message.MessageID, nil, "")
}
