package discord

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/impbot/impbot/bot"
)

// maxCustomID is Discord's limit on a component's custom_id.
const maxCustomID = 100

// Discord's limits on buttons: 5 per row, 5 rows, 80 characters of label.
const (
	maxButtonsPerRow = 5
	maxRows          = 5
	maxLabel         = 80
)

// encodeCustomID packs a button's position in its message, the user it
// belongs to and its action into a custom_id:
//
//	<index base 36>.<owner snowflake base 36>.<action>
//
// The index keeps custom_ids unique within a message (Discord rejects
// duplicates). owner is empty when anyone may press the button. ok is false
// when the result would exceed 100 characters.
func encodeCustomID(index int, owner, action string) (string, bool) {
	o := ""
	if owner != "" {
		n, err := strconv.ParseUint(owner, 10, 64)
		if err != nil {
			return "", false
		}
		o = strconv.FormatUint(n, 36)
	}
	id := strconv.FormatInt(int64(index), 36) + "." + o + "." + action
	return id, utf8.RuneCountInString(id) <= maxCustomID
}

// decodeCustomID reverses encodeCustomID. ok is false for a custom_id this
// adapter did not make.
func decodeCustomID(id string) (owner, action string, ok bool) {
	idx, rest, ok1 := strings.Cut(id, ".")
	o, action, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || idx == "" || action == "" {
		return "", "", false
	}
	if _, err := strconv.ParseUint(idx, 36, 8); err != nil {
		return "", "", false
	}
	if o != "" {
		n, err := strconv.ParseUint(o, 36, 64)
		if err != nil {
			return "", "", false
		}
		owner = strconv.FormatUint(n, 10)
	}
	return owner, action, true
}

// components lays out buttons as Discord action rows, owned by owner. Buttons
// beyond Discord's 25, or whose custom_id would be too long, are left out.
func components(owner string, buttons []bot.Button) []discordgo.MessageComponent {
	rows := []discordgo.MessageComponent{}
	var row discordgo.ActionsRow
	n := 0
	for _, b := range buttons {
		if n == maxRows*maxButtonsPerRow {
			break
		}
		id, ok := encodeCustomID(n, owner, b.Action)
		if !ok || b.Action == "" {
			continue
		}
		style := discordgo.SecondaryButton
		switch {
		case strings.HasPrefix(b.Action, bot.ActDialogue), strings.HasPrefix(b.Action, bot.ActCommand):
			style = discordgo.PrimaryButton
		}
		label := truncate(strings.TrimSpace(b.Label), maxLabel)
		if label == "" {
			label = "…"
		}
		row.Components = append(row.Components, discordgo.Button{Label: label, Style: style, CustomID: id})
		n++
		if len(row.Components) == maxButtonsPerRow {
			rows = append(rows, row)
			row = discordgo.ActionsRow{}
		}
	}
	if len(row.Components) > 0 {
		rows = append(rows, row)
	}
	return rows
}

// truncate shortens s to at most n characters (UTF-16 units), ending with
// "…" when cut.
func truncate(s string, n int) string {
	if u16len(s) <= n {
		return s
	}
	var b strings.Builder
	used := 0
	for _, r := range s {
		w := 1
		if r >= 0x10000 {
			w = 2
		}
		if used+w > n-1 {
			break
		}
		b.WriteRune(r)
		used += w
	}
	return strings.TrimRight(b.String(), " ") + "…"
}
