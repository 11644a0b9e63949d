package dialogue

import (
	"os"
	"testing"
)

func BenchmarkParseShippedRules(b *testing.B) {
	_, base := shippedRules(b)
	data, err := os.ReadFile("../../knowledge/eligibility.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, probs := Parse("eligibility.yaml", data, base); len(probs) > 0 {
			b.Fatal(probs)
		}
	}
}
