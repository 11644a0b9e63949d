package index

import "testing"

func TestFocusStart(t *testing.T) {
	for _, c := range []struct {
		text string
		want int
	}{
		{"what is a pgwp", 0},
		{"what is a pgwp?", 0},
		{"I graduated in May. My PGWP ends soon. Can I extend it?", 8},
		{"Can I extend it? Thanks!", 0},                  // the asking sentence, not the thanks
		{"I paid $1.50 for it. is that the fee", 6},      // "$1.50" does not end a sentence (1 and 50 are words)
		{"My wife is here… can she work", 4},             // an ellipsis ends one
		{"we moved to Calgary\nquestion: can I work", 4}, // so does a line break
		{"?!", 0},
		{"", 0},
		{"hello. ", 0}, // the last sentence with a word
	} {
		if got := focusStart(c.text); got != c.want {
			t.Errorf("focusStart(%q) = %d, want %d", c.text, got, c.want)
		}
	}
}
