package index

import (
	"regexp"
	"testing"
)

// TestIsCodeIsTheRegexp checks isCode against the regular expression it
// replaced, on codes, near misses and odd input.
func TestIsCodeIsTheRegexp(t *testing.T) {
	re := regexp.MustCompile(`^[a-z][0-9]{2,3}$`)
	words := []string{"c10", "t36", "a75", "r204", "c1", "c1000", "10", "cc10", "C10", "c1a", "c٣٣", "é10", "c10\n", "", "z99", "a000", "pgwp", "c 10", "c10x"}
	for _, w := range words {
		if got, want := isCode(w), re.MatchString(w); got != want {
			t.Errorf("isCode(%q) = %v, the expression says %v", w, got, want)
		}
	}
	for a := range 128 {
		for b := range 128 {
			for _, w := range []string{string([]byte{byte(a), '1', byte(b)}), string([]byte{byte(a), byte(b), '2', '3'})} {
				if got, want := isCode(w), re.MatchString(w); got != want {
					t.Fatalf("isCode(%q) = %v, the expression says %v", w, got, want)
				}
			}
		}
	}
}
