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
// en: 2170 questions, 140 unrelated: ranked first 0.831, top-1 0.784, top-3 0.890, unrelated rejected 0.971, redirects 0.793, Brier 0.116, answered 1975 (0.861 right)
// fr: 2192 questions, 105 unrelated: ranked first 0.825, top-1 0.774, top-3 0.871, unrelated rejected 0.962, redirects 0.825, Brier 0.120, answered 1954 (0.868 right)

// Calibration maps a candidate's signals to its confidence.
var Calibration = Calibrator{
	W:    [calibN]float64{0.161, -2.042, 1.597, 1.018, -1.352, 8.655, 3.609, -0.593, 0.834, 0.269, 0.824},
	Bias: -9.595,
}

// Thresholds on the calibrated confidence: from Answer the top article is
// answered, from Unsure "did you mean" buttons are offered.
const (
	AnswerThreshold = 0.500
	UnsureThreshold = 0.500
	// SuggestThreshold: runners-up from this confidence are offered as
	// buttons beside an answer or a "did you mean".
	SuggestThreshold = 0.005
)
