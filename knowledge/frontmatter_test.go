package knowledge

import "testing"

// The front matter is parsed once and decoded strictly from its nodes: the
// messages are the strict decoder's (checked against it when this changed),
// unknown keys and type errors in line order.
func TestFrontMatterStrictErrors(t *testing.T) {
	for _, c := range []struct{ front, want string }{
		{"id: a\nlang: en\nkind: topic\ntitle: [x, y]\nwhatever: 1\nsummary: {a: 1}\nnope: 2\n",
			"f.md:5: front matter: unmarshal errors:   line 5: cannot unmarshal !!seq into string   line 6: field whatever not found in type knowledge.Article   line 7: cannot unmarshal !!map into string   line 8: field nope not found in type knowledge.Article"},
		{"id: a\nkind: topic\nkind: redirect\n", `f.md:4: front matter: unmarshal errors:   line 4: mapping key "kind" already defined at line 3`},
		{"", "f.md:1: front matter: EOF"},
		{"# only a comment\n", "f.md:1: front matter: EOF"},
		{"- a\n- b\n", "f.md:2: front matter: unmarshal errors:   line 2: cannot unmarshal !!seq into knowledge.Article"},
	} {
		a, probs := ParseArticle("f.md", []byte("---\n"+c.front+"---\nbody\n"))
		if a != nil || len(probs) != 1 || probs[0].String() != c.want {
			t.Errorf("front matter %q:\ngot  %v\nwant %s", c.front, probs, c.want)
		}
	}
}
