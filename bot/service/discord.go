package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/impbot/impbot/bot/discord"
)

func init() {
	adapterFactories = append(adapterFactories, newDiscordAdapter)
}

// newDiscordAdapter builds the Discord adapter from the discord section of
// the config (nil when discord.enabled is false). /ask's autocomplete
// suggests from the index in use, so it follows hot reloads. With
// discord.shards, it runs one gateway connection per shard of
// discord.shard_ids (all of them by default), so replicas can split a large
// bot's guilds between them.
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
	// With several replicas the REST rate limits (per bot token) are
	// shared in Redis.
	shared, err := a.Redis()
	if err != nil {
		return nil, fmt.Errorf("discord: %w", err)
	}
	base := discord.Config{
		Cluster:       shared,
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
	}
	count, err := shardCount(c)
	if err != nil {
		return nil, err
	}
	if count <= 1 {
		return discord.New(base, a.Handler)
	}
	ids := c.ShardIDs
	if len(ids) == 0 && shared != nil {
		// Several replicas: each runs the shards whose Redis lease it holds.
		a.Log.Info("discord shards claimed through redis", "shards", count)
		return newClaimedDiscord(shared, base, count, a), nil
	}
	if len(ids) == 0 {
		for i := range count {
			ids = append(ids, i)
		}
	}
	var shards shardedDiscord
	for i, id := range ids {
		sc := base
		sc.ShardID, sc.ShardCount = id, count
		sc.SkipCommands = i > 0 // one shard per replica registers the commands (idempotent)
		sc.Log = base.Log.With("shard", id)
		ad, err := discord.New(sc, a.Handler)
		if err != nil {
			return nil, err
		}
		shards = append(shards, ad)
	}
	a.Log.Info("discord sharded", "shards", count, "shard_ids", ids)
	return shards, nil
}

// shardCount is discord.shards: 0 when unset, the number, or for auto
// Discord's recommendation (GET /gateway/bot).
func shardCount(c DiscordConfig) (int, error) {
	switch c.Shards {
	case "":
		return 0, nil
	case "auto":
	default:
		return strconv.Atoi(c.Shards) // validated with the config
	}
	base := strings.TrimRight(c.APIURL, "/")
	if base == "" {
		base = "https://discord.com"
	}
	token := strings.TrimPrefix(strings.TrimSpace(c.Token), "Bot ")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v9/gateway/bot", nil)
	if err != nil {
		return 0, fmt.Errorf("discord.shards: auto: %w", err)
	}
	req.Header.Set("Authorization", "Bot "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("discord.shards: auto: asking Discord for the shard count: %w", err)
	}
	defer resp.Body.Close()
	var body struct {
		Shards int `json:"shards"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&body) != nil || body.Shards < 1 {
		return 0, fmt.Errorf("discord.shards: auto: GET /gateway/bot answered %s; set discord.shards to a number", resp.Status)
	}
	return body.Shards, nil
}

// shardedDiscord runs several shards as one adapter.
type shardedDiscord []*discord.Adapter

func (s shardedDiscord) Name() string { return discord.Platform }

// Run runs every shard until ctx ends; the first failure is returned.
func (s shardedDiscord) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make([]error, len(s))
	for i, ad := range s {
		wg.Go(func() { errs[i] = ad.Run(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Ready is nil once every shard is connected.
func (s shardedDiscord) Ready() error {
	for _, ad := range s {
		if err := ad.Ready(); err != nil {
			return err
		}
	}
	return nil
}
