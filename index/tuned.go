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
// en: 2173 questions, 140 unrelated: ranked first 0.831, top-1 0.801, top-3 0.914, unrelated rejected 0.943, redirects 0.824, Brier 0.117, answered 2039 (0.854 right)
// fr: 2195 questions, 105 unrelated: ranked first 0.824, top-1 0.795, top-3 0.906, unrelated rejected 0.943, redirects 0.840, Brier 0.120, answered 2045 (0.853 right)

// Calibration maps a candidate's signals to its confidence.
var Calibration = Calibrator{
	W:    [calibN]float64{0.159, -2.041, 1.585, 0.997, -1.408, 8.888, 3.580, -0.588, 0.820, 0.281, 0.844},
	Bias: -9.686,
}

// Thresholds on the calibrated confidence: from Answer the top article is
// answered, from Unsure "did you mean" buttons are offered.
const (
	AnswerThreshold = 0.425
	UnsureThreshold = 0.425
	// SuggestThreshold: runners-up from this confidence are offered as
	// buttons beside an answer or a "did you mean".
	SuggestThreshold = 0.005
)
