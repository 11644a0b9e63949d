package telegram

import (
	"context"
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/impbot/impbot/bot"
	"github.com/impbot/impbot/bot/session"
)

// handleUpdate answers one update: it never panics and never blocks on
// sending (replies are queued).
func (a *Adapter) handleUpdate(u tgbotapi.Update) { a.handle(u, 0) }

// handle answers an update; with uid (a claimed update of a cluster) its
// replies are recorded in Redis first, so a replica that takes the update
// over after its first handler died sends what was not sent yet instead of
// answering again (see replay).
func (a *Adapter) handle(u tgbotapi.Update, uid int) {
	defer func() {
		if r := recover(); r != nil {
			a.log.Error("panic while handling an update", "update_id", u.UpdateID, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
	}()
	switch {
	case u.Message != nil:
		a.onMessage(u.Message, uid)
	case u.CallbackQuery != nil:
		a.onCallback(u.CallbackQuery, uid)
	}
}

func (a *Adapter) self() tgbotapi.User {
	if b := a.base.Load(); b != nil {
		return b.Self
	}
	return tgbotapi.User{}
}

func (a *Adapter) onMessage(m *tgbotapi.Message, uid int) {
	if m.Chat == nil || m.From == nil || m.From.IsBot {
		return // never answer a bot (anonymous admins and channels post as bots too)
	}
	if m.ViaBot != nil && m.ViaBot.ID == a.self().ID {
		return
	}
	if a.ho != nil && m.Chat.ID == a.cfg.StaffChatID {
		unlock := a.lockChat(m.Chat.ID)
		defer unlock()
		if m.ReplyToMessage == nil && a.isGapsCommand(m.Text) {
			a.onGaps(m.MessageID)
			return
		}
		a.ho.onStaffMessage(m)
		return
	}
	text := m.Text
	if text == "" {
		text = m.Caption
	}
	private := m.Chat.Type == "private"
	if private {
		if text == "" && !hasContent(m) {
			return // a service message
		}
	} else {
		if text == "" || !a.addressed(m) {
			return
		}
		text = a.stripMention(text)
	}
	req := &bot.Request{
		Platform: platform,
		ChatID:   strconv.FormatInt(m.Chat.ID, 10),
		UserID:   strconv.FormatInt(m.From.ID, 10),
		Lang:     m.From.LanguageCode,
		Text:     text,
		Group:    !private,
	}
	a.stats.MessageIn(platform)
	unlock := a.lockChat(m.Chat.ID)
	defer unlock()
	if a.replay(uid) {
		return
	}
	replyTo := 0
	if !private {
		replyTo = m.MessageID
	}
	ctx, batch := a.batch(uid)
	a.sendRecorded(m.Chat.ID, replyTo, a.respond(ctx, req), uid, batch)
}

// hasContent reports whether a message without text carries something the
// user sent (a photo, a sticker, a voice note…), as opposed to a service
// message.
func hasContent(m *tgbotapi.Message) bool {
	return m.Photo != nil || m.Sticker != nil || m.Document != nil || m.Voice != nil || m.Video != nil ||
		m.Audio != nil || m.Animation != nil || m.VideoNote != nil || m.Contact != nil || m.Location != nil ||
		m.Poll != nil || m.Dice != nil
}

// addressed reports whether a group message is for the bot: a command (not
// addressed to another bot), a reply to the bot, or a mention of it.
func (a *Adapter) addressed(m *tgbotapi.Message) bool {
	self := a.self()
	if _, _, ok := bot.ParseCommand(m.Text); ok {
		head, _, _ := strings.Cut(strings.TrimSpace(m.Text), " ")
		_, to, hasTo := strings.Cut(head, "@")
		return !hasTo || strings.EqualFold(to, self.UserName)
	}
	if r := m.ReplyToMessage; r != nil && r.From != nil && r.From.ID == self.ID {
		return true
	}
	text, ents := m.Text, m.Entities
	if text == "" {
		text, ents = m.Caption, m.CaptionEntities
	}
	for _, e := range ents {
		switch e.Type {
		case "mention":
			if self.UserName != "" && strings.EqualFold(utf16Slice(text, e.Offset, e.Length), "@"+self.UserName) {
				return true
			}
		case "text_mention":
			if e.User != nil && e.User.ID == self.ID {
				return true
			}
		}
	}
	return self.UserName != "" && containsMention(text, self.UserName)
}

// containsMention finds @username as a whole word (case-insensitive).
func containsMention(text, username string) bool {
	lt, at := strings.ToLower(text), "@"+strings.ToLower(username)
	for i := 0; ; {
		j := strings.Index(lt[i:], at)
		if j < 0 {
			return false
		}
		end := i + j + len(at)
		if end == len(lt) || !isNameByte(lt[end]) {
			return true
		}
		i = end
	}
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_'
}

// stripMention removes @username from the text.
func (a *Adapter) stripMention(text string) string {
	name := a.self().UserName
	lt := strings.ToLower(text)
	if name == "" || len(lt) != len(text) {
		return strings.TrimSpace(text)
	}
	at := "@" + strings.ToLower(name)
	var b strings.Builder
	for i := 0; ; {
		j := strings.Index(lt[i:], at)
		if j < 0 {
			b.WriteString(text[i:])
			break
		}
		end := i + j + len(at)
		if end < len(lt) && isNameByte(lt[end]) {
			b.WriteString(text[i:end]) // @username_other: not us
		} else {
			b.WriteString(text[i : i+j])
		}
		i = end
	}
	return strings.TrimSpace(b.String())
}

// utf16Slice returns the substring of s at a UTF-16 offset and length (how
// Telegram counts entity positions).
func utf16Slice(s string, off, n int) string {
	u := utf16.Encode([]rune(s))
	if off < 0 || n < 0 || off+n > len(u) {
		return ""
	}
	return string(utf16.Decode(u[off : off+n]))
}

func (a *Adapter) onCallback(q *tgbotapi.CallbackQuery, uid int) {
	// Answer first so the client stops its spinner, whatever happens next.
	a.answerCallback(q.ID)
	if q.From == nil || q.From.IsBot || q.Message == nil || q.Message.Chat == nil {
		return
	}
	chat := q.Message.Chat
	if a.ho != nil && chat.ID == a.cfg.StaffChatID {
		unlock := a.lockChat(chat.ID)
		defer unlock()
		if data, ok := strings.CutPrefix(q.Data, actTeach); ok {
			a.onTeach(q, data)
			return
		}
		a.ho.onStaffCallback(q)
		return
	}
	action, ok := a.cb.decode(q.Data)
	req := &bot.Request{
		Platform: platform,
		ChatID:   strconv.FormatInt(chat.ID, 10),
		UserID:   strconv.FormatInt(q.From.ID, 10),
		Lang:     q.From.LanguageCode,
		Action:   action,
		Group:    chat.Type != "private",
	}
	if !ok {
		// An old button whose payload we no longer know: show the help.
		req.Action, req.Text = "", "/help"
	}
	a.stats.MessageIn(platform)
	unlock := a.lockChat(chat.ID)
	defer unlock()
	if a.replay(uid) {
		return
	}
	ctx, batch := a.batch(uid)
	a.sendRecorded(chat.ID, 0, a.respond(ctx, req), uid, batch)
}

func (a *Adapter) answerCallback(id string) {
	if id == "" {
		return
	}
	// Telegram refuses answers to queries older than about 15 seconds.
	ctx, cancel := context.WithTimeout(context.Background(), min(a.t.RequestTimeout, 10*time.Second))
	defer cancel()
	err := a.call(ctx, "answerCallbackQuery", 3, func(api *tgbotapi.BotAPI) error {
		_, err := api.Request(tgbotapi.NewCallback(id, ""))
		return err
	})
	if err != nil {
		a.log.Warn("cannot answer a button press", "err", err)
	}
}

// respond runs the request through the handoff (if configured) and the
// handler; it always returns something to say.
func (a *Adapter) respond(parent context.Context, req *bot.Request) *bot.Response {
	ctx, cancel := context.WithTimeout(parent, a.t.HandleTimeout)
	defer cancel()
	if a.ho != nil {
		if resp := a.ho.intercept(ctx, req); resp != nil {
			return resp
		}
	}
	resp, err := a.cfg.Handler.Handle(ctx, req)
	if err != nil || resp == nil {
		if err != nil {
			a.log.Error("handler failed", "user", bot.Pseudonym(req.SessionKey()), "err", err)
		}
		return &bot.Response{Replies: []bot.Reply{{Text: bot.Msg(bot.DetectLang(req.Text), "error")}}}
	}
	if a.ho != nil {
		a.ho.decorate(req, resp)
	}
	return resp
}

// send queues a response's replies for a chat: each reply rendered to HTML
// and split to fit, its buttons under its last part. replyTo, if set, makes
// the first message a reply (in groups, so it is clear whom the bot answers).
func (a *Adapter) send(chatID int64, replyTo int, resp *bot.Response) {
	a.sendRecorded(chatID, replyTo, resp, 0, nil)
}

// sendRecorded is send; with uid, the messages are recorded for replay.
func (a *Adapter) sendRecorded(chatID int64, replyTo int, resp *bot.Response, uid int, batch *session.Batch) {
	var msgs []*outMsg
	for _, rep := range resp.Replies {
		parts := Split(Render(rep.Text), MaxMessageLen)
		kb := a.keyboard(rep.Buttons)
		if len(parts) == 0 {
			if kb == nil {
				continue
			}
			parts = []string{"👇"}
		}
		for i, p := range parts {
			m := &outMsg{chatID: chatID, text: p}
			if len(msgs) == 0 {
				m.replyTo = replyTo
			}
			if i == len(parts)-1 && kb != nil {
				m.markup = *kb
			}
			msgs = append(msgs, m)
		}
	}
	a.record(uid, msgs, batch)
	a.out.enqueue(msgs...)
}

// maxLabel bounds a button label (Telegram cuts long labels anyway).
const maxLabel = 64

// keyboard lays out buttons as an inline keyboard: one per row, except
// consecutive feedback buttons (👍/👎), which share a row.
func (a *Adapter) keyboard(buttons []bot.Button) *tgbotapi.InlineKeyboardMarkup {
	if len(buttons) == 0 {
		return nil
	}
	var rows [][]tgbotapi.InlineKeyboardButton
	for i, b := range buttons {
		label := strings.TrimSpace(b.Label)
		if utf8.RuneCountInString(label) > maxLabel {
			label = string([]rune(label)[:maxLabel-1]) + "…"
		}
		if label == "" {
			label = "…"
		}
		btn := tgbotapi.NewInlineKeyboardButtonData(label, a.cb.encode(b.Action))
		if i > 0 && strings.HasPrefix(b.Action, bot.ActFeedback) && strings.HasPrefix(buttons[i-1].Action, bot.ActFeedback) {
			rows[len(rows)-1] = append(rows[len(rows)-1], btn)
			continue
		}
		rows = append(rows, []tgbotapi.InlineKeyboardButton{btn})
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(rows...)
	return &kb
}
