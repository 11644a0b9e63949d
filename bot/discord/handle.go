package discord

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/impbot/impbot/bot"
)

// texts are the adapter's own words (the bot's answers come from the
// router).
var texts = map[string]map[string]string{
	"en": {
		"not_yours": "These buttons belong to someone else's conversation, so I left it alone. " +
			"Use /eligibility to start your own check, or /ask to ask a question.",
		"expired": "This button is no longer valid. Use /help to start again.",
	},
	"fr": {
		"not_yours": "Ces boutons appartiennent à la conversation de quelqu'un d'autre : je n'y ai pas touché. " +
			"Tapez /eligibility pour faire votre propre vérification, ou /ask pour poser une question.",
		"expired": "Ce bouton n'est plus valide. Tapez /help pour recommencer.",
	},
}

func text(lang, key string) string {
	if t, ok := texts[lang][key]; ok {
		return t
	}
	return texts["en"][key]
}

// langOf maps a Discord locale ("fr", "en-US") to the bot's languages.
func langOf(locale discordgo.Locale) string {
	if strings.HasPrefix(strings.ToLower(string(locale)), "fr") {
		return "fr"
	}
	return "en"
}

// noMentions lets no message ping anyone, whatever its text contains.
func noMentions() *discordgo.MessageAllowedMentions {
	return &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}
}

// submit queues a job for one user in one channel.
func (a *Adapter) submit(key string, job func(ctx context.Context)) bool {
	ok := a.pool.submit(key, func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, jobTimeout)
		defer cancel()
		job(ctx)
	})
	if !ok && !a.stopping.Load() {
		a.log.Warn("discord: too many events waiting: one was dropped")
	}
	return ok
}

var mentionRE = regexp.MustCompile(`<@!?(\d+)>`)

// onMessageCreate decides whether a message is for the bot and queues it.
// It runs on the gateway's read loop: it must not block.
func (a *Adapter) onMessageCreate(m *discordgo.Message) {
	if m == nil || m.Author == nil || a.stopping.Load() {
		return
	}
	self, _ := a.ids()
	if m.Author.Bot || m.Author.System || m.Author.ID == self || m.WebhookID != "" {
		return
	}
	if m.Type != discordgo.MessageTypeDefault && m.Type != discordgo.MessageTypeReply {
		return
	}
	dm := m.GuildID == ""
	mentioned := false
	for _, u := range m.Mentions {
		if u != nil && self != "" && u.ID == self {
			mentioned = true
		}
	}
	listened := a.channels[m.ChannelID]
	if !dm && !mentioned && !listened {
		return
	}
	content := m.Content
	if mentioned {
		content = mentionRE.ReplaceAllStringFunc(content, func(s string) string {
			if mentionRE.FindStringSubmatch(s)[1] == self {
				return " "
			}
			return s
		})
	}
	content = strings.TrimSpace(content)
	if content == "" && !dm && !mentioned {
		// Without the Message Content intent, plain guild messages arrive
		// empty.
		if a.warnedEmpty.CompareAndSwap(false, true) {
			a.log.Warn("messages in discord.channels arrive without text: enable the Message Content intent " +
				"in the Developer Portal (Bot → Privileged Gateway Intents)")
		}
		return
	}
	msg := &discordgo.Message{ID: m.ID, ChannelID: m.ChannelID, GuildID: m.GuildID, Author: m.Author}
	a.submit(m.ChannelID+":"+m.Author.ID, func(ctx context.Context) { a.handleMessage(ctx, msg, content) })
}

// handleMessage answers one message in its channel (as a reply in servers).
func (a *Adapter) handleMessage(ctx context.Context, m *discordgo.Message, content string) {
	a.stats.MessageIn(Platform)
	req := &bot.Request{
		Platform: Platform,
		ChatID:   m.ChannelID,
		UserID:   m.Author.ID,
		Text:     content,
		Group:    m.GuildID != "",
	}
	resp, err := a.h.Handle(ctx, req)
	if err != nil {
		a.log.Error("discord: handler failed", "user", bot.Pseudonym(req.SessionKey()), "err", err)
		return
	}
	var ref *discordgo.MessageReference
	if req.Group {
		ref = m.SoftReference()
	}
	for _, out := range render(resp, m.Author.ID) {
		send := &discordgo.MessageSend{
			Content:         out.content,
			Components:      out.components,
			AllowedMentions: noMentions(),
			Reference:       ref,
			Flags:           discordgo.MessageFlagsSuppressEmbeds,
		}
		ref = nil
		err := a.restCall(ctx, "send message", func(opts ...discordgo.RequestOption) error {
			_, err := a.s.ChannelMessageSendComplex(m.ChannelID, send, opts...)
			return err
		})
		if err != nil {
			a.log.Error("discord: cannot send a reply", "user", bot.Pseudonym(req.SessionKey()), "err", err)
			return
		}
		a.stats.MessageOut(Platform)
	}
}

// outMsg is one Discord message of a response.
type outMsg struct {
	content    string
	components []discordgo.MessageComponent
}

// render turns a response into Discord messages: each reply fitted to
// Discord's Markdown and split at 2,000 characters, its buttons (owned by
// owner) under its last part.
func render(resp *bot.Response, owner string) []outMsg {
	if resp == nil {
		return nil
	}
	var outs []outMsg
	for _, rep := range resp.Replies {
		chunks := Split(Format(rep.Text), MaxMessage)
		comps := components(owner, rep.Buttons)
		if len(chunks) == 0 {
			if len(comps) == 0 {
				continue
			}
			chunks = []string{"\u200b"} // Discord wants some content
		}
		for i, c := range chunks {
			o := outMsg{content: c, components: []discordgo.MessageComponent{}}
			if i == len(chunks)-1 {
				o.components = comps
			}
			outs = append(outs, o)
		}
	}
	return outs
}

func interactionUser(i *discordgo.Interaction) *discordgo.User {
	if i.Member != nil && i.Member.User != nil {
		return i.Member.User
	}
	return i.User
}

// onInteractionCreate queues an interaction. It runs on the gateway's read
// loop: it must not block.
func (a *Adapter) onInteractionCreate(i *discordgo.Interaction, received time.Time) {
	if i == nil || a.stopping.Load() {
		return
	}
	u := interactionUser(i)
	if u == nil || u.ID == "" || u.Bot {
		return
	}
	key := i.ChannelID + ":" + u.ID
	if i.Type == discordgo.InteractionApplicationCommandAutocomplete {
		// Suggestions must not wait behind the user's own answers.
		key = "autocomplete:" + key
	}
	a.submit(key, func(ctx context.Context) { a.handleInteraction(ctx, i, u, received) })
}

// answer modes for interactions.
type mode int

const (
	modeNew    mode = iota // a new message (type 4)
	modeUpdate             // replace the message the button is on (type 7)
)

func (a *Adapter) handleInteraction(ctx context.Context, i *discordgo.Interaction, u *discordgo.User, received time.Time) {
	req := &bot.Request{
		Platform: Platform,
		ChatID:   i.ChannelID,
		UserID:   u.ID,
		Lang:     string(i.Locale),
		Group:    i.GuildID != "",
	}
	switch i.Type {
	case discordgo.InteractionApplicationCommandAutocomplete:
		a.autocomplete(ctx, i, received)
	case discordgo.InteractionApplicationCommand:
		data, ok := i.Data.(discordgo.ApplicationCommandInteractionData)
		if !ok {
			return
		}
		a.stats.MessageIn(Platform)
		req.Text = commandText(data)
		a.answer(ctx, i, req, received, modeNew, a.cfg.Ephemeral, u.ID)
	case discordgo.InteractionMessageComponent:
		data, ok := i.Data.(discordgo.MessageComponentInteractionData)
		if !ok {
			return
		}
		a.stats.MessageIn(Platform)
		ephemeral := i.Message != nil && i.Message.Flags&discordgo.MessageFlagsEphemeral != 0
		owner, action, ok := decodeCustomID(data.CustomID)
		switch {
		case !ok:
			a.notice(ctx, i, "expired")
		case owner != "" && owner != u.ID && dialogueAction(action):
			// Someone else's dialogue: never move it.
			a.notice(ctx, i, "not_yours")
		case owner != "" && owner != u.ID:
			// Someone else's answer: show the presser what the button
			// does, privately, in their own conversation.
			req.Action = action
			a.answer(ctx, i, req, received, modeNew, true, u.ID)
		default:
			req.Action = action
			m := modeNew
			if dialogueAction(action) {
				m = modeUpdate // the question becomes the next one
			}
			a.answer(ctx, i, req, received, m, ephemeral, u.ID)
		}
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

// answer runs the request and answers the interaction: at once if the
// handler is quick, otherwise it first defers (Discord wants an answer
// within 3 s) and edits the deferred answer when ready. Further messages go
// as follow-ups.
func (a *Adapter) answer(ctx context.Context, i *discordgo.Interaction, req *bot.Request, received time.Time, m mode, ephemeral bool, owner string) {
	type result struct {
		resp *bot.Response
		err  error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- result{err: fmt.Errorf("panic: %v", r)}
			}
		}()
		resp, err := a.h.Handle(ctx, req)
		done <- result{resp, err}
	}()
	var flags discordgo.MessageFlags = discordgo.MessageFlagsSuppressEmbeds
	if ephemeral {
		flags |= discordgo.MessageFlagsEphemeral
	}
	var res result
	deferred := false
	timer := time.NewTimer(max(time.Until(received.Add(a.deferAfter)), 0))
	select {
	case res = <-done:
		timer.Stop()
	case <-timer.C:
		typ := discordgo.InteractionResponseDeferredChannelMessageWithSource
		if m == modeUpdate {
			typ = discordgo.InteractionResponseDeferredMessageUpdate
		}
		err := a.restCall(ctx, "defer interaction", func(opts ...discordgo.RequestOption) error {
			return a.s.InteractionRespond(i, &discordgo.InteractionResponse{
				Type: typ, Data: &discordgo.InteractionResponseData{Flags: flags},
			}, opts...)
		})
		if err != nil {
			a.interactionFailed(req, err)
			<-done
			return
		}
		deferred = true
		select {
		case res = <-done:
		case <-ctx.Done():
			return
		}
	}
	if res.err != nil || res.resp == nil {
		if res.err != nil {
			a.log.Error("discord: handler failed", "user", bot.Pseudonym(req.SessionKey()), "err", res.err)
		}
		res.resp = &bot.Response{Replies: []bot.Reply{{Text: bot.Msg(langOf(discordgo.Locale(req.Lang)), "error")}}}
	}
	outs := render(res.resp, owner)
	if len(outs) == 0 {
		if deferred || i.Type != discordgo.InteractionMessageComponent {
			outs = []outMsg{{content: "\u200b", components: []discordgo.MessageComponent{}}}
		} else {
			// Nothing to say to a button press: acknowledge it.
			err := a.restCall(ctx, "acknowledge button", func(opts ...discordgo.RequestOption) error {
				return a.s.InteractionRespond(i, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredMessageUpdate}, opts...)
			})
			if err != nil {
				a.interactionFailed(req, err)
			}
			return
		}
	}
	first := outs[0]
	err := a.restCall(ctx, "answer interaction", func(opts ...discordgo.RequestOption) error {
		switch {
		case deferred:
			_, err := a.s.InteractionResponseEdit(i, &discordgo.WebhookEdit{
				Content: &first.content, Components: &first.components, AllowedMentions: noMentions(),
			}, opts...)
			return err
		case m == modeUpdate:
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
					Content: first.content, Components: first.components, AllowedMentions: noMentions(), Flags: flags,
				},
			}, opts...)
		}
	})
	if err != nil {
		a.interactionFailed(req, err)
		return
	}
	a.stats.MessageOut(Platform)
	for _, o := range outs[1:] {
		err := a.restCall(ctx, "send follow-up", func(opts ...discordgo.RequestOption) error {
			_, err := a.s.FollowupMessageCreate(i, true, &discordgo.WebhookParams{
				Content: o.content, Components: o.components, AllowedMentions: noMentions(), Flags: flags,
			}, opts...)
			return err
		})
		if err != nil {
			a.interactionFailed(req, err)
			return
		}
		a.stats.MessageOut(Platform)
	}
}

func (a *Adapter) interactionFailed(req *bot.Request, err error) {
	if restCode(err) == 10062 {
		a.log.Warn("discord: interaction expired before it was answered", "user", bot.Pseudonym(req.SessionKey()))
		return
	}
	a.log.Error("discord: cannot answer an interaction", "user", bot.Pseudonym(req.SessionKey()), "err", err)
}

// notice answers an interaction with a private message of the adapter's
// own.
func (a *Adapter) notice(ctx context.Context, i *discordgo.Interaction, key string) {
	err := a.restCall(ctx, "answer interaction", func(opts ...discordgo.RequestOption) error {
		return a.s.InteractionRespond(i, &discordgo.InteractionResponse{
			Type: discordgo.InteractionResponseChannelMessageWithSource,
			Data: &discordgo.InteractionResponseData{
				Content:         text(langOf(i.Locale), key),
				Flags:           discordgo.MessageFlagsEphemeral,
				AllowedMentions: noMentions(),
			},
		}, opts...)
	})
	if err != nil {
		a.log.Error("discord: cannot answer an interaction", "err", err)
		return
	}
	a.stats.MessageOut(Platform)
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

// commands are the slash commands, with French descriptions.
func commands() []*discordgo.ApplicationCommand {
	fr := func(s string) *map[discordgo.Locale]string {
		return &map[discordgo.Locale]string{discordgo.French: s}
	}
	contexts := &[]discordgo.InteractionContextType{discordgo.InteractionContextGuild, discordgo.InteractionContextBotDM}
	install := &[]discordgo.ApplicationIntegrationType{discordgo.ApplicationIntegrationGuildInstall}
	return []*discordgo.ApplicationCommand{
		{
			Name:                     "ask",
			Description:              "Ask a question about LMIA-exempt work permits (International Mobility Program)",
			DescriptionLocalizations: fr("Posez une question sur les permis de travail dispensés d'EIMT (PMI)"),
			Contexts:                 contexts,
			IntegrationTypes:         install,
			Options: []*discordgo.ApplicationCommandOption{{
				Type:                     discordgo.ApplicationCommandOptionString,
				Name:                     "question",
				Description:              "Your question, in your own words",
				DescriptionLocalizations: map[discordgo.Locale]string{discordgo.French: "Votre question, avec vos mots"},
				Required:                 true,
				Autocomplete:             true,
				MaxLength:                500,
			}},
		},
		{
			Name:                     "eligibility",
			Description:              "A few questions to see which IMP work permits may fit you",
			DescriptionLocalizations: fr("Quelques questions pour voir quels permis du PMI pourraient vous convenir"),
			Contexts:                 contexts,
			IntegrationTypes:         install,
		},
		{
			Name:                     "help",
			Description:              "What this bot can do",
			DescriptionLocalizations: fr("Ce que ce bot sait faire"),
			Contexts:                 contexts,
			IntegrationTypes:         install,
		},
		{
			Name:                     "contact",
			Description:              "How to reach a person about your situation",
			DescriptionLocalizations: fr("Comment parler à une personne de votre situation"),
			Contexts:                 contexts,
			IntegrationTypes:         install,
		},
	}
}
