package telegram

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"go.etcd.io/bbolt"

	"github.com/impbot/impbot/bot"
	"github.com/impbot/impbot/bot/cluster"
)

// The "ask an expert" loop: when a user asks for a person, their last
// question goes to the staff chat with a Reply button; a staff member's
// reply (to that message, or to the prompt the button opens) is sent to the
// user. Staff never see who the user is. The question is kept only in the
// pending-handoff record, which /forget deletes and which expires.

// actStaffReply is the staff chat's Reply button: hr:<handoff id>.
const actStaffReply = "hr:"

// maxQuestion bounds the text forwarded to staff.
const maxQuestion = 1500

// maxRemembered bounds the questions remembered for a possible handoff.
const maxRemembered = 20000

var handoffBucket = []byte("telegram_handoffs")

type handoff struct {
	ID        string    `json:"id"`
	ChatID    int64     `json:"chat_id"`
	UserID    int64     `json:"user_id"`
	Group     bool      `json:"group,omitempty"`
	Lang      string    `json:"lang"`
	Question  string    `json:"question"`
	Created   time.Time `json:"created"`
	StaffMsgs []int     `json:"staff_msgs,omitempty"`
	Replies   int       `json:"replies,omitempty"`
	// A question from another platform (the web widget): the staff answer
	// goes to that platform's sink with Key, not to a Telegram chat.
	Platform string `json:"platform,omitempty"`
	Key      string `json:"key,omitempty"`
}

type lastQuestion struct {
	text string
	at   time.Time
}

type handoffs struct {
	a  *Adapter
	db *bbolt.DB
	// shared, with several replicas, holds the records and the per-user
	// state in Redis (handoff_redis.go) instead of the maps below.
	shared *cluster.Redis

	sinks sync.Map // platform → ExternalSink

	mu       sync.Mutex
	byID     map[string]*handoff
	byMsg    map[int]string // staff chat message → handoff id
	last     map[string]lastQuestion
	awaiting map[string]time.Time
	lastGC   time.Time
}

func newHandoffs(a *Adapter, db *bbolt.DB) (*handoffs, error) {
	h := &handoffs{a: a, db: db, byID: map[string]*handoff{}, byMsg: map[int]string{},
		last: map[string]lastQuestion{}, awaiting: map[string]time.Time{}, shared: a.cfg.Cluster}
	if db == nil || h.shared != nil {
		return h, nil
	}
	now := time.Now()
	var expired [][]byte
	err := db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(handoffBucket)
		if err != nil {
			return err
		}
		return b.ForEach(func(k, v []byte) error {
			var rec handoff
			if json.Unmarshal(v, &rec) != nil || now.Sub(rec.Created) > a.t.HandoffTTL {
				expired = append(expired, append([]byte(nil), k...))
				return nil
			}
			h.index(&rec)
			return nil
		})
	})
	if err == nil && len(expired) > 0 {
		err = db.Update(func(tx *bbolt.Tx) error {
			b := tx.Bucket(handoffBucket)
			for _, k := range expired {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err != nil {
		return nil, fmt.Errorf("telegram: load pending handoffs: %w", err)
	}
	return h, nil
}

// index adds a record to the in-memory maps (caller holds mu or owns h).
func (h *handoffs) index(rec *handoff) {
	h.byID[rec.ID] = rec
	for _, m := range rec.StaffMsgs {
		h.byMsg[m] = rec.ID
	}
}

func (h *handoffs) save(rec *handoff) {
	if h.db == nil {
		return
	}
	data, err := json.Marshal(rec)
	if err == nil {
		err = h.db.Update(func(tx *bbolt.Tx) error { return tx.Bucket(handoffBucket).Put([]byte(rec.ID), data) })
	}
	if err != nil {
		h.a.log.Error("cannot store a pending handoff", "err", err)
	}
}

func (h *handoffs) delete(ids []string) {
	if h.db == nil || len(ids) == 0 {
		return
	}
	err := h.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(handoffBucket)
		for _, id := range ids {
			if err := b.Delete([]byte(id)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		h.a.log.Error("cannot delete pending handoffs", "err", err)
	}
}

// drop removes records from memory (caller holds mu) and returns their ids.
func (h *handoffs) drop(recs []*handoff) []string {
	var ids []string
	for _, rec := range recs {
		delete(h.byID, rec.ID)
		for _, m := range rec.StaffMsgs {
			delete(h.byMsg, m)
		}
		ids = append(ids, rec.ID)
	}
	return ids
}

// gc forgets expired records and questions (caller holds mu); it returns
// the ids to delete from the store.
func (h *handoffs) gc(now time.Time) []string {
	if now.Sub(h.lastGC) < time.Minute {
		return nil
	}
	h.lastGC = now
	for k, q := range h.last {
		if now.Sub(q.at) > h.a.t.QuestionTTL {
			delete(h.last, k)
		}
	}
	for k, t := range h.awaiting {
		if now.Sub(t) > h.a.t.QuestionTTL {
			delete(h.awaiting, k)
		}
	}
	var old []*handoff
	for _, rec := range h.byID {
		if now.Sub(rec.Created) > h.a.t.HandoffTTL {
			old = append(old, rec)
		}
	}
	return h.drop(old)
}

func reqLang(req *bot.Request) string { return bot.RequestLang(req) }

var handoffMsgs = map[string]map[string]string{
	"en": {
		"ask":       "What would you like to ask our team? Send your question in one message, or /cancel.",
		"sent":      "I have passed your question to our team. A person will answer you here in this chat.",
		"already":   "Your question is already with our team. A person will answer you here in this chat.",
		"cancelled": "OK, nothing was sent to our team.",
		"answer":    "💬 <b>Answer from our team</b>",
		"btn_team":  "Ask our team",
		"unavailable": "I cannot reach our team from here just now (a brief outage). Please try again in a few minutes; " +
			"you can still ask me questions.",
	},
	"fr": {
		"ask":       "Que souhaitez-vous demander à notre équipe ? Envoyez votre question en un seul message, ou /cancel.",
		"sent":      "J'ai transmis votre question à notre équipe. Une personne vous répondra ici, dans cette conversation.",
		"already":   "Votre question est déjà entre les mains de notre équipe. Une personne vous répondra ici.",
		"cancelled": "D'accord, rien n'a été envoyé à notre équipe.",
		"answer":    "💬 <b>Réponse de notre équipe</b>",
		"btn_team":  "Demander à notre équipe",
		"unavailable": "Je ne peux pas joindre notre équipe pour le moment (une brève panne). Réessayez dans quelques minutes ; " +
			"vous pouvez toujours me poser vos questions.",
	},
}

func hmsg(lang, key string) string {
	if m, ok := handoffMsgs[lang][key]; ok {
		return m
	}
	return handoffMsgs["en"][key]
}

func hasWord(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return true
		}
	}
	return false
}

// intercept handles what belongs to the handoff: the "talk to a person"
// button, the question typed after it, /cancel of that prompt. Otherwise it
// remembers the user's question and returns nil for the handler to answer.
func (h *handoffs) intercept(ctx context.Context, req *bot.Request) *bot.Response {
	if h.shared != nil {
		return h.rIntercept(ctx, req)
	}
	key := req.SessionKey()
	lang := reqLang(req)
	now := time.Now()
	cmd, _, isCmd := bot.ParseCommand(req.Text)

	h.mu.Lock()
	expired := h.gc(now)
	_, awaiting := h.awaiting[key]
	var resp *bot.Response
	var question string
	switch {
	case strings.HasPrefix(req.Action, bot.ActHandoff):
		q, ok := h.last[key]
		if !ok || now.Sub(q.at) > h.a.t.QuestionTTL {
			h.awaiting[key] = now
			resp = say(hmsg(lang, "ask"))
			break
		}
		question = q.text
	case isCmd || req.Action != "":
		delete(h.awaiting, key)
		if awaiting && cmd == "cancel" {
			resp = say(hmsg(lang, "cancelled"))
		}
	case awaiting && hasWord(req.Text):
		delete(h.awaiting, key)
		question = req.Text
	case hasWord(req.Text):
		if len(h.last) >= maxRemembered {
			for k := range h.last { // evict an arbitrary entry
				delete(h.last, k)
				break
			}
		}
		h.last[key] = lastQuestion{text: req.Text, at: now}
	}
	h.mu.Unlock()
	h.delete(expired)
	if question != "" {
		return h.open(req, lang, question)
	}
	return resp
}

func say(html string) *bot.Response {
	return &bot.Response{Replies: []bot.Reply{{Text: html}}}
}

// decorate offers the handoff under /contact.
func (h *handoffs) decorate(req *bot.Request, resp *bot.Response) {
	if cmd, _, ok := bot.ParseCommand(req.Text); !ok || cmd != "contact" || len(resp.Replies) == 0 {
		return
	}
	last := &resp.Replies[len(resp.Replies)-1]
	last.Buttons = append(last.Buttons, bot.Button{Label: hmsg(reqLang(req), "btn_team"), Action: bot.ActHandoff})
}

func newID() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// open creates a pending handoff, forwards the question to the staff chat
// and tells the user.
func (h *handoffs) open(req *bot.Request, lang, question string) *bot.Response {
	chatID, _ := strconv.ParseInt(req.ChatID, 10, 64)
	userID, _ := strconv.ParseInt(req.UserID, 10, 64)
	question = strings.TrimSpace(strings.ToValidUTF8(question, "\uFFFD"))
	if utf8.RuneCountInString(question) > maxQuestion {
		question = string([]rune(question)[:maxQuestion]) + "…"
	}
	now := time.Now()
	rec := &handoff{ID: newID(), ChatID: chatID, UserID: userID, Group: req.Group, Lang: lang, Question: question, Created: now}
	if h.shared != nil {
		already, err := h.rOpen(rec, req.SessionKey())
		if err != nil {
			h.a.log.Warn("handoff unavailable: the shared store is unreachable", "err", err)
			return say(hmsg(lang, "unavailable"))
		}
		if already {
			return say(hmsg(lang, "already"))
		}
		return h.forward(req, lang, question, rec)
	}
	h.mu.Lock()
	for _, rec := range h.byID {
		// One open question at a time per user and chat, until staff answer
		// or ten minutes pass.
		if rec.Platform == "" && rec.ChatID == chatID && rec.UserID == userID && rec.Replies == 0 && now.Sub(rec.Created) < 10*time.Minute {
			h.mu.Unlock()
			return say(hmsg(lang, "already"))
		}
	}
	h.index(rec)
	delete(h.last, req.SessionKey()) // the question now lives only in the record
	h.mu.Unlock()
	h.save(rec)
	return h.forward(req, lang, question, rec)
}

// forward sends a stored handoff's question to the staff chat and tells
// the user.
func (h *handoffs) forward(req *bot.Request, lang, question string, rec *handoff) *bot.Response {
	where := "private chat"
	if req.Group {
		where = "group"
	}
	text := fmt.Sprintf("📨 <b>Question #%s</b> (Telegram, %s, %s)\n\n%s\n\n<i>Reply to this message, or press Reply, to answer the user. Their identity is not shown.</i>",
		rec.ID, where, lang, Escape(question))
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		tgbotapi.NewInlineKeyboardButtonData("✍️ Reply", actStaffReply+rec.ID)))
	h.sendStaff(text, 0, kb, rec.ID)
	h.a.log.Info("handoff forwarded to staff", "handoff", rec.ID, "user", bot.Pseudonym(req.SessionKey()))
	return say(hmsg(lang, "sent") + "\n\n_" + bot.Msg(lang, "notice") + "_")
}

// sendStaff queues a message to the staff chat; if id is set, replies to
// that message will reach the handoff's user.
func (h *handoffs) sendStaff(html string, replyTo int, markup any, id string) {
	for i, part := range Split(html, MaxMessageLen) {
		m := &outMsg{chatID: h.a.cfg.StaffChatID, text: part, markup: markup}
		if i == 0 {
			m.replyTo = replyTo
		}
		if id != "" {
			m.handoff = id
			m.sent = func(sent tgbotapi.Message) { h.link(id, sent.MessageID) }
		}
		h.a.out.enqueue(m)
	}
}

// link records that a staff chat message stands for a handoff.
func (h *handoffs) link(id string, msgID int) {
	if h.shared != nil {
		h.rLink(id, msgID)
		return
	}
	h.mu.Lock()
	rec := h.byID[id]
	if rec != nil {
		rec.StaffMsgs = append(rec.StaffMsgs, msgID)
		h.byMsg[msgID] = id
	}
	var cp handoff
	if rec != nil {
		cp = *rec
		cp.StaffMsgs = append([]int(nil), rec.StaffMsgs...)
	}
	h.mu.Unlock()
	if rec != nil {
		h.save(&cp)
	}
}

func (h *handoffs) lookup(msgID int) (*handoff, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	id, ok := h.byMsg[msgID]
	if !ok {
		return nil, false
	}
	rec := h.byID[id]
	if rec == nil || time.Since(rec.Created) > h.a.t.HandoffTTL {
		return nil, true
	}
	cp := *rec
	return &cp, true
}

const staffGone = "This question is no longer open: it expired or the user deleted their data."

const staffUnavailable = "The store of open questions is briefly unreachable: nothing was sent. Send your answer again in a minute."

// onStaffMessage forwards a staff member's reply to the user. Other
// messages in the staff chat are ignored.
func (h *handoffs) onStaffMessage(m *tgbotapi.Message) {
	if m.ReplyToMessage == nil {
		return
	}
	var rec *handoff
	var known bool
	if h.shared != nil {
		var err error
		if rec, known, err = h.rLookup(m.ReplyToMessage.MessageID); err != nil {
			h.a.log.Warn("staff reply not forwarded: the shared store is unreachable", "err", err)
			h.sendStaff(staffUnavailable, m.MessageID, nil, "")
			return
		}
	} else {
		rec, known = h.lookup(m.ReplyToMessage.MessageID)
	}
	if !known {
		if r := m.ReplyToMessage.From; r != nil && r.ID == h.a.self().ID && m.Text != "" {
			h.sendStaff(staffGone, m.MessageID, nil, "")
		}
		return
	}
	if rec == nil {
		h.sendStaff(staffGone, m.MessageID, nil, "")
		return
	}
	text := m.Text
	if text == "" {
		text = m.Caption
	}
	if strings.TrimSpace(text) == "" {
		h.sendStaff("Only text can be forwarded to the user: please answer with a text message.", m.MessageID, nil, "")
		return
	}
	if rec.Platform != "" {
		sink, ok := h.sinks.Load(rec.Platform)
		if !ok || !sink.(ExternalSink)(rec.Key, rec.Lang, text) {
			h.sendStaff(staffGone, m.MessageID, nil, "")
			return
		}
		h.markAnswered(rec)
		h.sendStaff(fmt.Sprintf("✅ Sent to the visitor (#%s, %s). Reply to this message to add more.", rec.ID, rec.Platform), m.MessageID, nil, rec.ID)
		h.a.log.Info("staff reply forwarded", "handoff", rec.ID, "to", rec.Platform)
		return
	}
	body := hmsg(rec.Lang, "answer") + "\n\n" + Escape(text) + "\n\n<i>" + Escape(bot.Msg(rec.Lang, "notice")) + "</i>"
	var msgs []*outMsg
	for _, part := range Split(body, MaxMessageLen) {
		msgs = append(msgs, &outMsg{chatID: rec.ChatID, text: part})
	}
	h.a.out.enqueue(msgs...)
	h.markAnswered(rec)
	h.sendStaff(fmt.Sprintf("✅ Sent to the user (#%s). Reply to this message to add more.", rec.ID), m.MessageID, nil, rec.ID)
	h.a.log.Info("staff reply forwarded", "handoff", rec.ID)
}

// onStaffCallback handles the Reply button: it opens a reply prompt.
func (h *handoffs) onStaffCallback(q *tgbotapi.CallbackQuery) {
	id, ok := strings.CutPrefix(q.Data, actStaffReply)
	if !ok {
		return
	}
	var rec *handoff
	if h.shared != nil {
		ctx, cancel := h.rctx()
		var err error
		rec, err = h.rGet(ctx, id)
		cancel()
		if err != nil {
			h.sendStaff(staffUnavailable, q.Message.MessageID, nil, "")
			return
		}
	} else {
		h.mu.Lock()
		rec = h.byID[id]
		h.mu.Unlock()
	}
	if rec == nil {
		h.sendStaff(staffGone, q.Message.MessageID, nil, "")
		return
	}
	prompt := fmt.Sprintf("✍️ Write your answer to #%s as a reply to this message.", id)
	h.sendStaff(prompt, q.Message.MessageID, tgbotapi.ForceReply{ForceReply: true, InputFieldPlaceholder: "Answer to #" + id}, id)
}

// markAnswered counts a staff reply on a record and stores it.
func (h *handoffs) markAnswered(rec *handoff) {
	if h.shared != nil {
		h.rAnswered(rec)
		return
	}
	h.mu.Lock()
	if cur := h.byID[rec.ID]; cur != nil {
		cur.Replies++
		rec = cur
	}
	cp := *rec
	h.mu.Unlock()
	h.save(&cp)
}

// ExternalSink delivers a staff answer to a visitor of another platform
// (key names the visitor there); it reports false when the visitor is gone.
type ExternalSink func(key, lang, text string) bool

// SetExternalSink routes staff answers to questions forwarded with
// ForwardExternal for platform. Call it before serving.
func (a *Adapter) SetExternalSink(platform string, sink ExternalSink) {
	if a.ho != nil {
		a.ho.sinks.Store(platform, sink)
	}
}

// ErrNoStaffChat is returned by ForwardExternal when no staff chat is
// configured.
var ErrNoStaffChat = errors.New("telegram: no staff chat configured (telegram.staff_chat_id)")

// ForwardExternal sends a question from another platform (the web widget's
// "Talk to a person" form) to the staff chat, like a Telegram user's
// handoff. The staff's reply goes to the platform's ExternalSink with key.
// The name and e-mail the visitor gave are shown to staff so they can also
// answer by e-mail; the record is deleted by /forget and expires.
func (a *Adapter) ForwardExternal(platformName, key, lang, name, email, question string) error {
	if a.ho == nil {
		return ErrNoStaffChat
	}
	if a.base.Load() == nil {
		return errors.New("telegram: not connected yet")
	}
	h := a.ho
	clean := func(s string, max int) string {
		s = strings.TrimSpace(strings.ToValidUTF8(s, "\uFFFD"))
		if utf8.RuneCountInString(s) > max {
			s = string([]rune(s)[:max]) + "…"
		}
		return s
	}
	question, name, email = clean(question, maxQuestion), clean(name, 100), clean(email, 254)
	rec := &handoff{ID: newID(), Lang: lang, Question: question, Created: time.Now(), Platform: platformName, Key: key}
	if h.shared != nil {
		if _, err := h.rOpen(rec, ""); err != nil {
			return err
		}
	} else {
		h.mu.Lock()
		h.index(rec)
		h.mu.Unlock()
		h.save(rec)
	}
	text := fmt.Sprintf("📨 <b>Question #%s</b> (%s, %s)\nFrom: %s &lt;%s&gt;\n\n%s\n\n<i>Reply to this message, or press Reply, to answer in the visitor's chat.</i>",
		rec.ID, Escape(platformName), lang, Escape(name), Escape(email), Escape(question))
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		tgbotapi.NewInlineKeyboardButtonData("✍️ Reply", actStaffReply+rec.ID)))
	h.sendStaff(text, 0, kb, rec.ID)
	h.a.log.Info("handoff forwarded to staff", "handoff", rec.ID, "from", platformName)
	return nil
}

// Forget deletes the user's pending handoffs and remembered question.
func (h *handoffs) Forget(ctx context.Context, req *bot.Request) error {
	if h.shared != nil {
		if req.Platform != platform {
			return h.rForget(ctx, hoHash(req.Platform, req.ChatID), "")
		}
		return h.rForget(ctx, hoHash(platform, req.ChatID, req.UserID), req.SessionKey())
	}
	if req.Platform != platform {
		// A visitor of another platform: their forwarded questions.
		h.mu.Lock()
		var mine []*handoff
		for _, rec := range h.byID {
			if rec.Platform == req.Platform && rec.Key == req.ChatID {
				mine = append(mine, rec)
			}
		}
		ids := h.drop(mine)
		h.mu.Unlock()
		h.delete(ids)
		return nil
	}
	chatID, _ := strconv.ParseInt(req.ChatID, 10, 64)
	userID, _ := strconv.ParseInt(req.UserID, 10, 64)
	h.mu.Lock()
	delete(h.last, req.SessionKey())
	delete(h.awaiting, req.SessionKey())
	var mine []*handoff
	for _, rec := range h.byID {
		if rec.Platform == "" && rec.ChatID == chatID && rec.UserID == userID {
			mine = append(mine, rec)
		}
	}
	ids := h.drop(mine)
	h.mu.Unlock()
	h.delete(ids)
	return nil
}
