package service

import (
	"github.com/impbot/impbot/bot/discord"
)

func init() {
	adapterFactories = append(adapterFactories, newDiscordAdapter)
}

// newDiscordAdapter builds the Discord adapter from the discord section of
// the config (nil when discord.enabled is false). /ask's autocomplete
// suggests from the index in use, so it follows hot reloads.
func newDiscordAdapter(a *App) (Adapter, error) {
	c := a.Cfg.Discord
	if !c.Enabled {
		return nil, nil
	}
	ephemeral := c.Ephemeral == nil || *c.Ephemeral
	return discord.New(discord.Config{
		Token:         c.Token,
		ApplicationID: c.ApplicationID,
		GuildIDs:      c.GuildIDs,
		Channels:      c.Channels,
		Ephemeral:     ephemeral,
		APIURL:        c.APIURL,
		Suggest:       a.Router.Suggest,
		Log:           a.Log.With("platform", discord.Platform),
		Stats:         a.Stats,
	}, a.Handler)
}
