package knowledge

import (
	"math/rand/v2"
	"regexp"
	"slices"
	"testing"
)

// The hand-written scanners find what the regular expressions they replace
// found, on the shipped bodies and on random strings of the characters
// that matter.
func TestBareIDsLikeTheExpression(t *testing.T) {
	t.Parallel() // loads or scans on its own
	re := regexp.MustCompile(`[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]`)
	check := func(s string) {
		t.Helper()
		var want, got [][2]int
		for _, loc := range re.FindAllStringIndex(s, -1) {
			want = append(want, [2]int{loc[0], loc[1]})
		}
		bareIDs(s, func(tok string, at int) {
			if s[at:at+len(tok)] != tok {
				t.Fatalf("%q: token %q not at %d", s, tok, at)
			}
			got = append(got, [2]int{at, at + len(tok)})
		})
		if !slices.Equal(want, got) {
			t.Fatalf("%q: expression %v, scanner %v", s, want, got)
		}
	}
	for _, s := range []string{"", "a", "ab", "a-", "-a", "-ab-", "a--b", "see worker-fees.", "x-y-", "é-ab", "a b-c -d- ee"} {
		check(s)
	}
	b, probs := Load(Shipped, "knowledge")
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	for _, lang := range b.Langs() {
		for _, a := range b.Articles[lang] {
			check(a.Body)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	const alphabet = "aZ9--  é.("
	for range 20000 {
		n := r.IntN(12)
		s := make([]byte, 0, n)
		for range n {
			s = append(s, alphabet[r.IntN(len(alphabet))])
		}
		check(string(s))
	}
}

func TestTopKeyLikeTheExpression(t *testing.T) {
	re := regexp.MustCompile(`^([A-Za-z_]+):`)
	r := rand.New(rand.NewPCG(3, 4))
	const alphabet = "aZ_: 1-"
	cases := []string{"", ":", "title:", "title: x", " title: x", "a_b:c", "a1: x", "summary"}
	for range 20000 {
		n := r.IntN(8)
		s := make([]byte, 0, n)
		for range n {
			s = append(s, alphabet[r.IntN(len(alphabet))])
		}
		cases = append(cases, string(s))
	}
	for _, s := range cases {
		m := re.FindStringSubmatch(s)
		k, ok := topKey(s)
		if (m != nil) != ok || (ok && m[1] != k) {
			t.Fatalf("%q: expression %v, scanner %q %v", s, m, k, ok)
		}
	}
}
