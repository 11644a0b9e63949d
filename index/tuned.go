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
// en: 2173 questions, 140 unrelated: ranked first 0.844, top-1 0.803, top-3 0.905, unrelated rejected 0.943, redirects 0.802, Brier 0.122, answered 2023 (0.862 right)
// fr: 2195 questions, 105 unrelated: ranked first 0.830, top-1 0.789, top-3 0.894, unrelated rejected 0.933, redirects 0.849, Brier 0.124, answered 2014 (0.860 right)

// Calibration maps a candidate's signals to its confidence.
var Calibration = Calibrator{
	W:    [calibN]float64{0.497, -0.959, 1.183, 1.892, 3.636, -0.578, 0.480, 0.110, 0.858},
	Bias: -5.668,
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
