package index

import (
	"fmt"
	"math"
	"testing"
)

// TestBandOpensWhileButtonsHelp builds held-out records with known
// confidences (a calibration that passes the ranker's probability through)
// and checks how ChooseThresholds places the gate: the answer threshold
// above the unrelated examples that would break the rejection floor, the
// "did you mean" band opened down to the last window whose buttons were
// right at least half the time, and questions without a domain word kept
// out of that judgement (they get no buttons).
func TestBandOpensWhileButtonsHelp(t *testing.T) {
	pass := Calibrator{W: [calibN]float64{1}}
	var recs []CVRecord
	add := func(count int, conf float64, right, anchored bool, unrelated bool) {
		recs = addBandRecords(recs, count, conf, right, anchored, unrelated)
	}
	add(500, 0.812, true, true, false) // answered right at any sensible threshold
	add(300, 0.012, false, true, true) // unrelated, rejected anywhere
	add(40, 0.262, false, true, true)  // unrelated: answering from 0.25 would reject only 0.88
	add(60, 0.257, true, true, false)  // window [0.25, 0.275): 60 right of 100
	add(30, 0.162, true, true, false)  // window [0.125, 0.175): 30 right of 40
	add(10, 0.162, false, true, false)
	add(8, 0.112, true, true, false) // window [0.10, 0.15): 8 right of 40: the band stops above it
	add(32, 0.112, false, true, false)
	add(200, 0.112, true, false, false) // right, but without a domain word: no buttons, not counted

	answer, unsure, _ := ChooseThresholds(recs, []string{"en"}, pass)
	t.Logf("answer %.3f unsure %.3f", answer, unsure)
	if answer <= 0.262 || answer > 0.8 {
		t.Errorf("answer threshold %.3f: want above the unrelated examples at 0.262 and below the answers at 0.812", answer)
	}
	if unsure != 0.125 {
		t.Errorf("did-you-mean threshold %.3f, want 0.125 (the window from 0.100 has 8 of 40 right)", unsure)
	}
	f := Figures(recs, "en", pass, answer, unsure, 0.001)
	// The 40 unrelated at 0.262 sit in the band: rejected (no article) but
	// given buttons.
	if f.Rejected != 1 || math.Abs(f.UnsureUnrelated-40.0/340) > 1e-9 {
		t.Errorf("rejected %.3f, with buttons %.3f: want 1 and %.3f", f.Rejected, f.UnsureUnrelated, 40.0/340)
	}
	if f.Band != 100+40 || math.Abs(f.BandPrecision-90.0/140) > 1e-9 {
		t.Errorf("band holds %d questions, %.3f right: want 140, %.3f", f.Band, f.BandPrecision, 90.0/140)
	}
	// With the domain-word rule gone, the 200 right questions at 0.112
	// would have carried the band lower: they must not be judged.
	for i := range recs {
		recs[i].Anchored = true
	}
	if _, u, _ := ChooseThresholds(recs, []string{"en"}, pass); u >= unsure {
		t.Errorf("with every question anchored the band still stops at %.3f: the test cannot tell the rule", u)
	}
}

// TestBandFirstStepJudgedOnAFullWindow: the first step below the answer
// threshold is judged on a full BandWindow of the band (its top 0.05), not on
// the 0.025 between the step and the threshold, where a few questions would
// decide alone whether the band opens at all.
func TestBandFirstStepJudgedOnAFullWindow(t *testing.T) {
	pass := Calibrator{W: [calibN]float64{1}}
	var recs []CVRecord
	add := func(count int, conf float64, right, unrelated bool) {
		recs = addBandRecords(recs, count, conf, right, true, unrelated)
	}
	add(500, 0.812, true, false)
	add(100, 0.287, true, false) // answered only from 0.275 down
	add(300, 0.012, false, true)
	add(40, 0.262, false, true)  // unrelated: answering from 0.25 would reject only 0.88
	add(30, 0.257, true, false)  // [0.25, 0.275): 30 right of 70
	add(60, 0.237, true, false)  // [0.225, 0.25): 60 right of 60
	add(80, 0.212, false, false) // [0.2, 0.225): none right: [0.2, 0.25) has 60 of 140
	answer, unsure, _ := ChooseThresholds(recs, []string{"en"}, pass)
	if answer != 0.275 {
		t.Fatalf("answer threshold %.3f, want 0.275 (the data are built around it)", answer)
	}
	if unsure != 0.225 {
		t.Errorf("did-you-mean threshold %.3f, want 0.225: the band's top 0.05 has 90 right of 130, and [0.2, 0.25) 60 of 140", unsure)
	}
}

// addBandRecords appends count held-out records whose only candidate has
// confidence conf under a calibration that passes the first signal through
// (W[0] = 1), right or wrong, with or without a domain word, or unrelated.
func addBandRecords(recs []CVRecord, count int, conf float64, right, anchored, unrelated bool) []CVRecord {
	for range count {
		n := len(recs) + 1
		want := fmt.Sprint("a", n%7)
		top := want
		if !right {
			top = "wrong"
		}
		if unrelated {
			want = ""
		}
		var v [calibN]float64
		v[0] = math.Log(conf / (1 - conf))
		recs = append(recs, CVRecord{Lang: "en", Text: fmt.Sprint(n), Want: want, Anchored: anchored,
			Hits: []Hit{{ID: top}}, Vectors: [][calibN]float64{v}})
	}
	return recs
}
