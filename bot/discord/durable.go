package discord

import (
	"context"
	"encoding/json"
	"time"

	"github.com/bwmarrin/discordgo"
	"go.etcd.io/bbolt"

	"github.com/impbot/impbot/bot"
)

// Deferred interactions survive a crash: with a store (Config.DB), an
// interaction is written to disk before it is deferred (Discord then shows
// "thinking…" until the answer edits the deferral in), and removed once it
// is answered. One still on disk at the next start, because the process was
// killed or stopped while the answer was being prepared, is answered then,
// as long as its token is valid (15 minutes after it was received); older
// ones are dropped.

// deferredBucket holds deferred interactions by interaction ID.
var deferredBucket = []byte("discord_deferred")

// tokenLife is how long an interaction token can edit its response.
const tokenLife = 15 * time.Minute

type deferredRecord struct {
	ID        string       `json:"id"`
	AppID     string       `json:"app"`
	Token     string       `json:"token"`
	Type      int          `json:"type"`
	ChannelID string       `json:"channel"`
	GuildID   string       `json:"guild,omitempty"`
	Locale    string       `json:"locale,omitempty"`
	Owner     string       `json:"owner"`
	Mode      int          `json:"mode"`
	Ephemeral bool         `json:"ephemeral,omitempty"`
	Notice    string       `json:"notice,omitempty"`
	Req       *bot.Request `json:"req,omitempty"`
	Expires   time.Time    `json:"expires"`
}

// persistDeferred records p before its deferral; it reports whether it did.
func (a *Adapter) persistDeferred(p *plan, received time.Time) bool {
	db := a.cfg.DB
	if db == nil {
		return false
	}
	i := p.i
	rec := deferredRecord{ID: i.ID, AppID: i.AppID, Token: i.Token, Type: int(i.Type), ChannelID: i.ChannelID,
		GuildID: i.GuildID, Locale: string(i.Locale), Owner: p.owner, Mode: int(p.mode), Ephemeral: p.ephemeral,
		Notice: p.notice, Req: p.req, Expires: received.Add(tokenLife)}
	data, err := json.Marshal(rec)
	if err == nil {
		err = db.Update(func(tx *bbolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists(deferredBucket)
			if err != nil {
				return err
			}
			return b.Put([]byte(i.ID), data)
		})
	}
	if err != nil {
		a.log.Error("discord: deferred interaction cannot be stored; it is lost if the bot stops before answering", "err", err)
		return false
	}
	return true
}

// forgetDeferred removes an answered interaction.
func (a *Adapter) forgetDeferred(id string) {
	db := a.cfg.DB
	if db == nil {
		return
	}
	err := db.Update(func(tx *bbolt.Tx) error {
		if b := tx.Bucket(deferredBucket); b != nil {
			return b.Delete([]byte(id))
		}
		return nil
	})
	if err != nil {
		a.log.Error("discord: answered interaction cannot be removed from the store", "err", err)
	}
}

// resumeDeferred answers the interactions deferred by the previous run and
// not answered, while their tokens are valid; it returns how many.
func (a *Adapter) resumeDeferred(now time.Time) int {
	db := a.cfg.DB
	if db == nil {
		return 0
	}
	var recs []deferredRecord
	var drop []string
	_ = db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(deferredBucket)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var r deferredRecord
			if json.Unmarshal(v, &r) != nil || r.Token == "" || !now.Before(r.Expires) {
				drop = append(drop, string(k))
				return nil
			}
			recs = append(recs, r)
			return nil
		})
	})
	for _, id := range drop {
		a.forgetDeferred(id)
	}
	if len(drop) > 0 {
		a.log.Warn("discord: interactions deferred before the last stop expired unanswered", "count", len(drop))
	}
	n := 0
	for _, r := range recs {
		i := &discordgo.Interaction{ID: r.ID, AppID: r.AppID, Token: r.Token, Type: discordgo.InteractionType(r.Type),
			ChannelID: r.ChannelID, GuildID: r.GuildID, Locale: discordgo.Locale(r.Locale), User: &discordgo.User{ID: r.Owner}}
		done := make(chan struct{})
		close(done)
		p := &plan{i: i, req: r.Req, notice: r.Notice, mode: mode(r.Mode), ephemeral: r.Ephemeral, owner: r.Owner,
			persisted: true, ack: &ack{a: a, i: i, state: ackDeferring, done: done}}
		if a.submit(r.ChannelID+":"+r.Owner, func(ctx context.Context) { a.execute(ctx, p) }) {
			n++
		}
	}
	if n > 0 {
		a.log.Info("discord: answering the interactions deferred before the last stop", "count", n)
	}
	return n
}
