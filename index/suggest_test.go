package index

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/impbot/impbot/knowledge"
)

// suggestIndex is the package's shared index of the shipped knowledge.
func suggestIndex(t testing.TB) *Index { return shipped(t) }

func TestSuggestCompletesAsTyped(t *testing.T) {
	ix := suggestIndex(t)
	ctx := context.Background()
	for _, typed := range []string{"spous", "Spouse ope", "IEC wor", "post-grad", "complian"} {
		got := ix.Suggest(ctx, "en", typed, 25)
		if len(got) == 0 || len(got) > 25 {
			t.Fatalf("Suggest(%q) gave %d suggestions", typed, len(got))
		}
		seen := map[string]bool{}
		for _, s := range got {
			if seen[s.ID] {
				t.Errorf("Suggest(%q): article %s twice", typed, s.ID)
			}
			seen[s.ID] = true
			a := ix.Base().Article("en", s.ID)
			if a == nil || (s.Text != a.Title && !contains(a.Questions, s.Text)) {
				t.Errorf("Suggest(%q): %q is not a title or question of %s", typed, s.Text, s.ID)
			}
		}
		// The best one contains every typed word (the last as a prefix).
		best := strings.ToLower(foldAccents(got[0].Text))
		for _, w := range words(typed) {
			if !strings.Contains(best, w) {
				t.Errorf("Suggest(%q): best %q lacks %q", typed, got[0].Text, w)
			}
		}
	}
	if got := ix.Suggest(ctx, "en", "IEC wor", 3); len(got) == 0 || !strings.HasPrefix(got[0].ID, "iec") {
		t.Errorf("Suggest(IEC wor) = %+v, want an IEC article first", got)
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func TestSuggestEmptyListsTopics(t *testing.T) {
	ix := suggestIndex(t)
	got := ix.Suggest(context.Background(), "en", "  ", 25)
	if len(got) != 25 {
		t.Fatalf("%d suggestions, want 25", len(got))
	}
	if !sort.SliceIsSorted(got, func(i, j int) bool { return got[i].Text < got[j].Text }) {
		t.Error("not sorted by title")
	}
	for _, s := range got {
		if a := ix.Base().Article("en", s.ID); a.Kind != knowledge.KindTopic {
			t.Errorf("%s is a %s, not a topic", s.ID, a.Kind)
		}
	}
}

func TestSuggestEdgeCases(t *testing.T) {
	ix := suggestIndex(t)
	ctx := context.Background()
	if got := ix.Suggest(ctx, "en", "spouse", 0); got != nil {
		t.Errorf("n=0 gave %v", got)
	}
	// A language without articles gets English suggestions.
	if got := ix.Suggest(ctx, "de", "spous", 5); len(got) == 0 {
		t.Error("no English suggestions for a language without articles")
	}
	// Typos and unknown words: the search fills in, or nothing; no panic.
	for _, typed := range []string{"spuose permt", "zzqqxx", strings.Repeat("permit ", 500), "😀", "[(*"} {
		if got := ix.Suggest(ctx, "en", typed, 25); len(got) > 25 {
			t.Errorf("Suggest(%q) gave %d", typed, len(got))
		}
	}
	if got := ix.Suggest(ctx, "en", "spouce permit", 5); len(got) == 0 {
		t.Error("a typo found nothing: the search should fill in")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_ = ix.Suggest(cancelled, "en", "work permit", 5)
}

func BenchmarkSuggest(b *testing.B) {
	ix := suggestIndex(b)
	ctx := context.Background()
	typed := []string{"s", "sp", "spo", "spou", "spous", "spouse", "spouse o", "spouse op", "spouse open w"}
	i := 0
	for b.Loop() {
		ix.Suggest(ctx, "en", typed[i%len(typed)], 25)
		i++
	}
}
