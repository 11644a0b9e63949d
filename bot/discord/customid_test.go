package discord

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/impbot/impbot/bot"
)

func TestCustomIDRoundTrip(t *testing.T) {
	t.Parallel()
	long := "a:" + strings.Repeat("x", 62) // the longest action the core makes
	for _, tc := range []struct {
		index         int
		owner, action string
	}{
		{0, "100000000000000101", "a:iec-overview"},
		{24, "18446744073709551615", long},
		{3, "", "c:eligibility"},
		{1, "42", "d:yes.with.dots"},
	} {
		id, ok := encodeCustomID(tc.index, tc.owner, tc.action)
		if !ok || len(id) > maxCustomID {
			t.Fatalf("encode(%v) = %q, %v", tc, id, ok)
		}
		owner, action, ok := decodeCustomID(id)
		if !ok || owner != tc.owner || action != tc.action {
			t.Errorf("decode(%q) = %q, %q, %v; want %q, %q", id, owner, action, ok, tc.owner, tc.action)
		}
	}
	if _, ok := encodeCustomID(0, "not-a-snowflake", "a:x"); ok {
		t.Error("encoded a non-numeric owner")
	}
	if _, ok := encodeCustomID(0, "1", strings.Repeat("x", 100)); ok {
		t.Error("encoded a custom_id over 100 characters")
	}
	for _, bad := range []string{"", "x", "1.2", "zz!.1.a:x", "1.!!.a:x", "1.1.", ".1.a:x"} {
		if _, _, ok := decodeCustomID(bad); ok {
			t.Errorf("decoded %q", bad)
		}
	}
}

func TestComponentsLayout(t *testing.T) {
	t.Parallel()
	var bs []bot.Button
	for i := range 30 {
		bs = append(bs, bot.Button{Label: fmt.Sprintf("Button %d %s", i, strings.Repeat("long ", 20)), Action: fmt.Sprintf("a:%d", i)})
	}
	bs = append(bs[:3], append([]bot.Button{{Label: "too long", Action: strings.Repeat("x", 120)}}, bs[3:]...)...)
	rows := components("100000000000000101", bs)
	if len(rows) != maxRows {
		t.Fatalf("%d rows, want %d", len(rows), maxRows)
	}
	seen := map[string]bool{}
	n := 0
	for _, r := range rows {
		row := r.(discordgo.ActionsRow)
		if len(row.Components) > maxButtonsPerRow {
			t.Errorf("row of %d buttons", len(row.Components))
		}
		for _, c := range row.Components {
			b := c.(discordgo.Button)
			n++
			if u16len(b.Label) > maxLabel {
				t.Errorf("label of %d characters", u16len(b.Label))
			}
			if seen[b.CustomID] {
				t.Errorf("duplicate custom_id %q", b.CustomID)
			}
			seen[b.CustomID] = true
			if _, act, _ := decodeCustomID(b.CustomID); len(act) > 100 {
				t.Errorf("the over-long action was kept")
			}
		}
	}
	if n != 25 {
		t.Errorf("%d buttons, want Discord's maximum of 25", n)
	}
	if got := components("1", nil); got == nil || len(got) != 0 {
		t.Errorf("components(nil) = %#v, want an empty, non-nil list", got)
	}
}

func TestTruncate(t *testing.T) {
	t.Parallel()
	if got := truncate("short", 10); got != "short" {
		t.Errorf("truncate = %q", got)
	}
	got := truncate(strings.Repeat("😀", 60), 80)
	if u16len(got) > 80 || !strings.HasSuffix(got, "…") {
		t.Errorf("truncate = %q (%d units)", got, u16len(got))
	}
}
