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
// en: 1109 questions, 140 unrelated: ranked first 0.776, top-1 0.753, top-3 0.909, unrelated rejected 0.936, redirects 0.846, Brier 0.145, answered 1056 (0.791 right)
// fr: 1197 questions, 105 unrelated: ranked first 0.759, top-1 0.728, top-3 0.869, unrelated rejected 0.914, redirects 0.842, Brier 0.151, answered 1101 (0.792 right)

// Calibration maps a candidate's signals to its confidence.
var Calibration = Calibrator{
	W:    [calibN]float64{0.152, -2.578, 1.122, 1.199, -1.253, 9.223, 3.315, -1.668, 0.682, 0.919, 0.413},
	Bias: -9.059,
}

// Thresholds on the calibrated confidence: from Answer the top article is
// answered, from Unsure "did you mean" buttons are offered.
const (
	AnswerThreshold = 0.375
	UnsureThreshold = 0.375
	// SuggestThreshold: runners-up from this confidence are offered as
	// buttons beside an answer or a "did you mean".
	SuggestThreshold = 0.005
)
