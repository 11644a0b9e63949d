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
// en: 2173 questions, 140 unrelated: ranked first 0.841, top-1 0.775, top-3 0.915, unrelated rejected 0.936, redirects 0.778, Brier 0.124, answered 1934 (0.871 right)
// fr: 2195 questions, 105 unrelated: ranked first 0.826, top-1 0.754, top-3 0.894, unrelated rejected 0.924, redirects 0.812, Brier 0.126, answered 1888 (0.876 right)

// Calibration maps a candidate's signals to its confidence.
var Calibration = Calibrator{
	W:    [calibN]float64{0.573, -0.234, 1.248, 1.142, 3.953, -0.696, 0.409, -0.019, 0.964},
	Bias: -5.233,
}

// Thresholds on the calibrated confidence: from Answer the top article is
// answered, from Unsure "did you mean" buttons are offered.
const (
	AnswerThreshold = 0.475
	UnsureThreshold = 0.350
	// SuggestThreshold: runners-up from this confidence are offered as
	// buttons beside an answer or a "did you mean".
	SuggestThreshold = 0.005
)
