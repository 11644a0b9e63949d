package markdown

import (
	"reflect"
	"testing"
)

func TestParseModel(t *testing.T) {
	got := Parse("**Title**\nSummary with [IRCC](https://www.canada.ca/x?a=1&b=2) and `code`.\n\n" +
		"Main conditions:\n- one &amp; *two*\n- ~~three~~\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n<div>raw</div>\n")
	want := []Block{
		{Kind: Paragraph, Inlines: []Inline{
			{Kind: Strong, Children: []Inline{{Kind: Text, Text: "Title"}}},
			{Kind: LineBreak},
			{Kind: Text, Text: "Summary with "},
			{Kind: Link, URL: "https://www.canada.ca/x?a=1&b=2", Children: []Inline{{Kind: Text, Text: "IRCC"}}},
			{Kind: Text, Text: " and "},
			{Kind: CodeSpan, Text: "code"},
			{Kind: Text, Text: "."},
		}},
		{Kind: Paragraph, Inlines: []Inline{{Kind: Text, Text: "Main conditions:"}}},
		{Kind: List, Start: 0, Items: [][]Block{
			{{Kind: Paragraph, Inlines: []Inline{{Kind: Text, Text: "one & "}, {Kind: Emphasis, Children: []Inline{{Kind: Text, Text: "two"}}}}}},
			{{Kind: Paragraph, Inlines: []Inline{{Kind: Strike, Children: []Inline{{Kind: Text, Text: "three"}}}}}},
		}},
		{Kind: Table, Rows: [][][]Inline{
			{{{Kind: Text, Text: "a"}}, {{Kind: Text, Text: "b"}}},
			{{{Kind: Text, Text: "1"}}, {{Kind: Text, Text: "2"}}},
		}},
		{Kind: HTML, Text: "<div>raw</div>"},
	}
	// Blank matters for a list: right under its paragraph or not.
	for i := range got {
		if got[i].Kind != List {
			got[i].Blank = false
		}
	}
	for i := range want {
		want[i].Blank = false
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Parse:\n got %+v\nwant %+v", got, want)
	}
	if SafeURL("javascript:alert(1)") || !SafeURL("https://x.org") || SafeURL("https://") {
		t.Error("SafeURL")
	}
	if s := PlainText(got[0].Inlines); s != "Title\nSummary with IRCC and code." {
		t.Errorf("PlainText = %q", s)
	}
}

func TestParseBlankBeforeList(t *testing.T) {
	tight := Parse("Conditions:\n- a\n- b\n")
	loose := Parse("Conditions:\n\n- a\n- b\n")
	if len(tight) != 2 || tight[1].Kind != List || tight[1].Blank {
		t.Errorf("list right under its paragraph: %+v", tight)
	}
	if len(loose) != 2 || loose[1].Kind != List || !loose[1].Blank {
		t.Errorf("list after a blank line: %+v", loose)
	}
}
