package discord

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/impbot/impbot/bot"
)

// answer modes for interactions.
type mode int

const (
	modeNew    mode = iota // a new message (type 4)
	modeUpdate             // replace the message the button is on (type 7)
)

// plan is what to do with an interaction, decided when it arrives.
type plan struct {
	i         *discordgo.Interaction
	req       *bot.Request // nil for a notice
	notice    string       // key of the adapter's own text to say instead
	mode      mode
	ephemeral bool
	owner     string // who the buttons of the answer belong to
	ack       *ack
	// persisted is set when the deferred interaction is on disk (durable.go).
	persisted bool
}

func (p *plan) flags() discordgo.MessageFlags {
	f := discordgo.MessageFlagsSuppressEmbeds
	if p.ephemeral {
		f |= discordgo.MessageFlagsEphemeral
	}
	return f
}

func interactionUser(i *discordgo.Interaction) *discordgo.User {
	if i.Member != nil && i.Member.User != nil {
		return i.Member.User
	}
	return i.User
}

// onInteractionCreate plans an interaction, starts the clock that defers it
// if it is not answered in time, and queues it. It runs on the gateway's
// read loop: it must not block.
func (a *Adapter) onInteractionCreate(i *discordgo.Interaction, received time.Time) {
	if i == nil || a.stopping.Load() {
		return
	}
	u := interactionUser(i)
	if u == nil || u.ID == "" || u.Bot {
		return
	}
	key := i.ChannelID + ":" + u.ID
	req := &bot.Request{
		Platform: Platform,
		ChatID:   i.ChannelID,
		UserID:   u.ID,
		Lang:     string(i.Locale),
		Group:    i.GuildID != "",
	}
	p := &plan{i: i, req: req, owner: u.ID}
	switch i.Type {
	case discordgo.InteractionApplicationCommandAutocomplete:
		// Suggestions must not wait behind the user's own answers, and
		// cannot be deferred.
		a.submit("autocomplete:"+key, func(ctx context.Context) { a.autocomplete(ctx, i, received) })
		return
	case discordgo.InteractionApplicationCommand:
		data, ok := i.Data.(discordgo.ApplicationCommandInteractionData)
		if !ok {
			return
		}
		req.Text = commandText(data)
		p.ephemeral = a.cfg.Ephemeral
	case discordgo.InteractionMessageComponent:
		data, ok := i.Data.(discordgo.MessageComponentInteractionData)
		if !ok {
			return
		}
		p.ephemeral = i.Message != nil && i.Message.Flags&discordgo.MessageFlagsEphemeral != 0
		owner, action, ok := decodeCustomID(data.CustomID)
		req.Action = action
		switch {
		case !ok:
			p.req, p.notice, p.ephemeral = nil, "expired", true
		case owner != "" && owner != u.ID && dialogueAction(action):
			// Someone else's dialogue: never move it.
			p.req, p.notice, p.ephemeral = nil, "not_yours", true
		case owner != "" && owner != u.ID:
			// Someone else's answer: show the presser what the button
			// does, privately, in their own conversation.
			p.ephemeral = true
		case dialogueAction(action):
			p.mode = modeUpdate // the question becomes the next one
		}
	default:
		return
	}
	typ := discordgo.InteractionResponseDeferredChannelMessageWithSource
	if p.mode == modeUpdate {
		typ = discordgo.InteractionResponseDeferredMessageUpdate
	}
	p.ack = a.startAck(p, received, typ)
	if !a.submit(key, func(ctx context.Context) { a.execute(ctx, p) }) {
		p.ack.stop()
	}
}

// dialogueAction reports whether a button belongs to the eligibility
// dialogue: an answer, or a control shown under a question.
func dialogueAction(action string) bool {
	switch action {
	case bot.CommandAction("back"), bot.CommandAction("cancel"), bot.CommandAction("restart"):
		return true
	}
	return strings.HasPrefix(action, bot.ActDialogue)
}

// commandText turns a slash command into the text the router understands.
func commandText(data discordgo.ApplicationCommandInteractionData) string {
	if data.Name == "ask" {
		for _, o := range data.Options {
			if o != nil && o.Name == "question" {
				q, _ := o.Value.(string)
				// A question, never a command.
				return strings.TrimLeft(strings.TrimSpace(q), "/")
			}
		}
		return ""
	}
	return "/" + data.Name
}

// ack states.
const (
	ackWaiting   = iota
	ackAnswering // the answer is ready and goes out as the initial response
	ackDeferring // the timer fired first: the answer edits the deferral
)

// ack makes sure an interaction is acknowledged within Discord's 3 seconds:
// a timer set on receipt defers it unless the answer is ready first, however
// long the interaction waits for a worker.
type ack struct {
	a        *Adapter
	p        *plan
	received time.Time
	i        *discordgo.Interaction
	typ      discordgo.InteractionResponseType
	flags    discordgo.MessageFlags

	mu    sync.Mutex
	state int
	timer *time.Timer
	done  chan struct{} // closed when the deferral call has returned
	err   error
}

func (a *Adapter) startAck(p *plan, received time.Time, typ discordgo.InteractionResponseType) *ack {
	k := &ack{a: a, p: p, received: received, i: p.i, typ: typ, flags: p.flags(), done: make(chan struct{})}
	k.mu.Lock()
	k.timer = time.AfterFunc(max(time.Until(received.Add(a.deferAfter)), 0), k.fire)
	k.mu.Unlock()
	return k
}

func (k *ack) fire() {
	k.mu.Lock()
	if k.state != ackWaiting {
		k.mu.Unlock()
		return
	}
	k.state = ackDeferring
	k.mu.Unlock()
	// On disk first: once Discord shows "thinking…", a crash must not leave
	// it there for good. (execute reads persisted only after done.)
	persisted := k.a.persistDeferred(k.p, k.received)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	k.err = k.a.restCall(ctx, "defer interaction", func(opts ...discordgo.RequestOption) error {
		return k.a.s.InteractionRespond(k.i, &discordgo.InteractionResponse{
			Type: k.typ, Data: &discordgo.InteractionResponseData{Flags: k.flags},
		}, opts...)
	})
	if persisted && k.err != nil {
		k.a.forgetDeferred(k.i.ID)
		persisted = false
	}
	k.p.persisted = persisted
	close(k.done)
}

// take is called when the answer is ready. deferred says whether the
// interaction was deferred (the answer then edits the deferral); err is the
// deferral's failure.
func (k *ack) take() (deferred bool, err error) {
	k.mu.Lock()
	if k.state == ackWaiting {
		k.state = ackAnswering
		k.timer.Stop()
		k.mu.Unlock()
		return false, nil
	}
	k.mu.Unlock()
	<-k.done
	return true, k.err
}

// stop cancels the deferral of an interaction that will not be handled.
func (k *ack) stop() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.state == ackWaiting {
		k.state = ackAnswering
		k.timer.Stop()
	}
}

// execute runs a planned interaction and answers it: as the initial
// response if in time, else by editing the deferral; further messages go as
// follow-ups.
func (a *Adapter) execute(ctx context.Context, p *plan) {
	i := p.i
	a.stats.MessageIn(Platform)
	var outs []outMsg
	if p.req == nil {
		outs = []outMsg{{content: text(langOf(i.Locale), p.notice), components: []discordgo.MessageComponent{}}}
	} else {
		resp, err := a.h.Handle(ctx, p.req)
		if err != nil || resp == nil {
			if err != nil {
				a.log.Error("discord: handler failed", "user", bot.Pseudonym(p.req.SessionKey()), "err", err)
			}
			resp = &bot.Response{Replies: []bot.Reply{{Text: bot.Msg(langOf(i.Locale), "error")}}}
		}
		outs = render(resp, p.owner)
	}
	deferred, err := p.ack.take()
	if deferred && p.persisted {
		if ctx.Err() != nil {
			// Shutting down while the answer was prepared: the next start
			// answers it (the answer may have been cut short).
			a.log.Info("discord: deferred interaction left for the next start")
			return
		}
		defer a.forgetDeferred(p.i.ID)
	}
	if err != nil {
		a.interactionFailed(p, err)
		return
	}
	if len(outs) == 0 {
		// Nothing to say: acknowledge a button press silently, remove a
		// "thinking…" placeholder.
		var err error
		switch {
		case deferred && p.mode == modeUpdate:
			return
		case deferred:
			err = a.restCall(ctx, "delete placeholder", func(opts ...discordgo.RequestOption) error {
				return a.s.InteractionResponseDelete(i, opts...)
			})
		default:
			err = a.restCall(ctx, "acknowledge interaction", func(opts ...discordgo.RequestOption) error {
				return a.s.InteractionRespond(i, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredMessageUpdate}, opts...)
			})
		}
		if err != nil {
			a.interactionFailed(p, err)
		}
		return
	}
	first := outs[0]
	err = a.restCall(ctx, "answer interaction", func(opts ...discordgo.RequestOption) error {
		switch {
		case deferred:
			_, err := a.s.InteractionResponseEdit(i, &discordgo.WebhookEdit{
				Content: &first.content, Components: &first.components, AllowedMentions: noMentions(),
			}, opts...)
			return err
		case p.mode == modeUpdate:
			return a.s.InteractionRespond(i, &discordgo.InteractionResponse{
				Type: discordgo.InteractionResponseUpdateMessage,
				Data: &discordgo.InteractionResponseData{
					Content: first.content, Components: first.components, AllowedMentions: noMentions(),
				},
			}, opts...)
		default:
			return a.s.InteractionRespond(i, &discordgo.InteractionResponse{
				Type: discordgo.InteractionResponseChannelMessageWithSource,
				Data: &discordgo.InteractionResponseData{
					Content: first.content, Components: first.components, AllowedMentions: noMentions(), Flags: p.flags(),
				},
			}, opts...)
		}
	})
	if err != nil {
		a.interactionFailed(p, err)
		return
	}
	a.stats.MessageOut(Platform)
	for _, o := range outs[1:] {
		err := a.restCall(ctx, "send follow-up", func(opts ...discordgo.RequestOption) error {
			_, err := a.s.FollowupMessageCreate(i, true, &discordgo.WebhookParams{
				Content: o.content, Components: o.components, AllowedMentions: noMentions(), Flags: p.flags(),
			}, opts...)
			return err
		})
		if err != nil {
			a.interactionFailed(p, err)
			return
		}
		a.stats.MessageOut(Platform)
	}
}

func (a *Adapter) interactionFailed(p *plan, err error) {
	user := ""
	if u := interactionUser(p.i); u != nil {
		user = bot.Pseudonym(Platform + ":" + p.i.ChannelID + ":" + u.ID)
	}
	if restCode(err) == 10062 {
		a.log.Warn("discord: interaction expired before it was answered", "user", user)
		return
	}
	a.log.Error("discord: cannot answer an interaction", "user", user, "err", err)
}

// maxChoices is Discord's limit on autocomplete choices.
const maxChoices = 25

// autocomplete offers articles' titles and questions matching what the user
// has typed in /ask. Discord allows 3 s and no deferral.
func (a *Adapter) autocomplete(ctx context.Context, i *discordgo.Interaction, received time.Time) {
	data, ok := i.Data.(discordgo.ApplicationCommandInteractionData)
	if !ok {
		return
	}
	typed := ""
	for _, o := range data.Options {
		if o != nil && o.Focused {
			typed, _ = o.Value.(string)
		}
	}
	ctx, cancel := context.WithDeadline(ctx, received.Add(3*time.Second))
	defer cancel()
	choices := []*discordgo.ApplicationCommandOptionChoice{}
	if a.cfg.Suggest != nil {
		for _, s := range a.cfg.Suggest(ctx, langOf(i.Locale), typed, maxChoices) {
			t := truncate(s.Text, 100)
			choices = append(choices, &discordgo.ApplicationCommandOptionChoice{Name: t, Value: t})
		}
	}
	if len(choices) == 0 {
		if t := truncate(strings.TrimSpace(typed), 100); t != "" {
			choices = append(choices, &discordgo.ApplicationCommandOptionChoice{Name: t, Value: t})
		}
	}
	err := a.restCall(ctx, "autocomplete", func(opts ...discordgo.RequestOption) error {
		return a.s.InteractionRespond(i, &discordgo.InteractionResponse{
			Type: discordgo.InteractionApplicationCommandAutocompleteResult,
			Data: &discordgo.InteractionResponseData{Choices: choices},
		}, opts...)
	})
	if err != nil && ctx.Err() == nil {
		a.log.Warn("discord: cannot send autocomplete choices", "err", err)
	}
}
