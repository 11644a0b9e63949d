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

// CV figures:
// en: 1109 questions, 140 unrelated: ranked first 0.781, top-1 0.746, top-3 0.886, unrelated rejected 0.943, redirects 0.821, Brier 0.144, answered 1030 (0.803 right)
// fr: 1197 questions, 105 unrelated: ranked first 0.769, top-1 0.722, top-3 0.851, unrelated rejected 0.924, redirects 0.819, Brier 0.151, answered 1078 (0.801 right)

// Calibration maps a candidate's signals to its confidence.
var Calibration = Calibrator{
	W:    [calibN]float64{0.172, -2.755, 1.026, 1.302, -1.157, 8.899, 3.205, -1.641, 0.841, 0.926, 0.477},
	Bias: -9.143,
}

// Thresholds on the calibrated confidence: from Answer the top article is
// answered, from Unsure "did you mean" buttons are offered.
const (
	AnswerThreshold = 0.400
	UnsureThreshold = 0.400
	// SuggestThreshold: runners-up from this confidence are offered as
	// buttons beside an answer or a "did you mean".
	SuggestThreshold = 0.005
)
