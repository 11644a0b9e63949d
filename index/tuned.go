package index

// The values below were chosen by k-fold cross-validation over the
// knowledge's own questions (`impbot kb cv`, TestCrossValidation): never by
// hand against an evaluation set. Re-run the cross-validation after large
// knowledge changes and paste what it prints.

// DefaultRank is the ranker's configuration.
var DefaultRank = RankConfig{
	Epochs: 6, LR: 2, L2: 0.0001,
	WStem: 1, WPair: 0.5, WSyn: 0.7, WChar: 0.5,
	WRanker: 1, WBleve: 1, RRFK: 2,
	WTitle: 1, WKeyword: 0.5, WSummary: 0.5, NormPow: 0.5,
}

// CV figures (`go run ./cmd/impbot kb cv`, 5 folds, knowledge of 2026-12-05
// with the 244+244 story phrasings):
// en: 2419 questions, 140 unrelated: ranked first 0.863, top-1 0.834, top-3 0.931, unrelated rejected 0.936, redirects 0.848, Brier 0.109, answered 2313 (0.872 right)
// fr: 2443 questions, 105 unrelated: ranked first 0.851, top-1 0.816, top-3 0.907, unrelated rejected 0.933, redirects 0.864, Brier 0.116, answered 2272 (0.877 right)

// Calibration maps a candidate's signals to its confidence.
var Calibration = Calibrator{
	W:    [calibN]float64{0.556, -0.351, 1.493, 1.104, 4.273, -0.679, 0.129, 0.038, 1.035},
	Bias: -5.459,
}

// Thresholds on the calibrated confidence: from Answer the top article is
// answered, from Unsure "did you mean" buttons are offered. They maximise
// cross-validated top-1 + top-3 subject to unrelated examples rejected
// ≥ 0.90 one standard error low in each language (cvObjective in cv.go
// states why). The two thresholds coincide: between them a question would
// get the same buttons as an answer gives (top-3 unchanged), less top-1 and
// less rejection, so CV never opens the band.
const (
	AnswerThreshold = 0.350
	UnsureThreshold = 0.350
	// SuggestThreshold: runners-up from this confidence are offered as
	// buttons beside an answer (at most 2) or a "did you mean" (3 in all).
	// It is the highest that keeps CV top-3 within 0.005 of offering every
	// runner-up (ChooseThresholds).
	SuggestThreshold = 0.010
)
