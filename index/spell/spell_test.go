package spell

import "testing"

func TestDistance(t *testing.T) {
	cases := []struct {
		a, b string
		max  int
		want int
	}{
		{"permit", "permit", 1, 0}, {"permt", "permit", 1, 1}, {"pemrit", "permit", 1, 1},
		{"procesing", "processing", 2, 1}, {"abc", "xyz", 1, 2}, {"a", "abcdef", 2, 3},
		{"québec", "quebec", 1, 1}, {"irlande", "irland", -1, 1}, {"", "abc", -1, 3},
	}
	for _, c := range cases {
		if got := Distance(c.a, c.b, c.max); got != c.want {
			t.Errorf("Distance(%q,%q,%d)=%d want %d", c.a, c.b, c.max, got, c.want)
		}
	}
}

func TestIsWord(t *testing.T) {
	for _, w := range []string{"working", "holiday", "processing", "wife", "form", "travail", "travaillons", "permis", "demandes", "conjointe"} {
		if !IsWord(w) {
			t.Errorf("IsWord(%q) = false, want true", w)
		}
	}
	for _, w := range []string{"wrking", "holliday", "proccesing", "wiff", "chaning", "lmia", "pgwp"} {
		if IsWord(w) {
			t.Errorf("IsWord(%q) = true, want false", w)
		}
	}
}

func TestCorrect(t *testing.T) {
	vocab := map[string]int{"working": 9, "holiday": 5, "processing": 7, "wife": 3, "changing": 4, "employer": 8,
		"permit": 20, "permis": 2, "form": 3, "from": 30}
	c := NewCorrector(vocab, 2)
	for in, want := range map[string]string{
		"wrking": "working", "holliday": "holiday", "proccesing": "processing", "wiff": "wife",
		"chaning": "changing", "emploer": "employer", "permmit": "permit",
	} {
		if got, ok := c.Correct(in, nil); !ok || got != want {
			t.Errorf("Correct(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	// Real words, short words, codes and words already known stay as they are.
	for _, in := range []string{"form", "work", "permit", "c10", "wor", "forms", "worker", "xyzzyq"} {
		if got, ok := c.Correct(in, nil); ok {
			t.Errorf("Correct(%q) = %q, want no correction", in, got)
		}
	}
}

func TestCorrectIgnoresHugeWords(t *testing.T) {
	c := NewCorrector(map[string]int{"working": 3}, 1)
	long := ""
	for range 5000 {
		long += "a"
	}
	if got, ok := c.Correct(long, nil); ok {
		t.Fatalf("corrected a 5000-letter word to %q", got)
	}
}

func TestCorrectSkipsWhatTheCallerKnows(t *testing.T) {
	c := NewCorrector(map[string]int{"holiday": 9, "holliday": 1}, 1)
	if got, ok := c.Correct("holliday", func(w string) bool { return w == "holiday" }); !ok || got != "holiday" {
		t.Errorf("a rare typo of the vocabulary: got %q, %v", got, ok)
	}
	if _, ok := c.Correct("holliday", func(w string) bool { return true }); ok {
		t.Error("corrected a word the caller knows")
	}
}
