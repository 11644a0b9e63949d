package service

import (
	"fmt"

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
	db, err := a.DB()
	if err != nil {
		return nil, fmt.Errorf("discord: %w", err)
	}
	return discord.New(discord.Config{
		DB:            db,
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
