package discord

import (
	"context"
	"regexp"
	"strings"

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
		// The chat commands typed on the other platforms.
		{
			Name:                     "back",
			Description:              "Eligibility check: go back to the previous question",
			DescriptionLocalizations: fr("Vérification : revenir à la question précédente"),
			Contexts:                 contexts,
			IntegrationTypes:         install,
		},
		{
			Name:                     "restart",
			Description:              "Eligibility check: start over",
			DescriptionLocalizations: fr("Vérification : recommencer depuis le début"),
			Contexts:                 contexts,
			IntegrationTypes:         install,
		},
		{
			Name:                     "cancel",
			Description:              "Eligibility check: stop it",
			DescriptionLocalizations: fr("Vérification : l'arrêter"),
			Contexts:                 contexts,
			IntegrationTypes:         install,
		},
		{
			Name:                     "summary",
			Description:              "Eligibility check: your answers and the outcome, to keep",
			DescriptionLocalizations: fr("Vérification : vos réponses et le résultat, à garder"),
			Contexts:                 contexts,
			IntegrationTypes:         install,
		},
		{
			Name:                     "forget",
			Description:              "Delete what the bot keeps about you",
			DescriptionLocalizations: fr("Effacer ce que le bot garde sur vous"),
			Contexts:                 contexts,
			IntegrationTypes:         install,
		},
	}
}
