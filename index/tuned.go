package index

// The values below were chosen by k-fold cross-validation over the
// knowledge's own questions (`impbot kb cv`, TestCrossValidation): never by
// hand against an evaluation set. Re-run the cross-validation after large
// knowledge changes and paste what it prints.

// DefaultRank is the ranker's configuration.
var DefaultRank = RankConfig{
	Epochs: 6, LR: 0.5, L2: 0.0001,
	WStem: 1, WPair: 0.5, WSyn: 0.7, WChar: 0.8,
	WRanker: 1, WBleve: 0.5, RRFK: 2,
	WTitle: 1, WKeyword: 0.5, WSummary: 0.5,
}

// Calibration maps a candidate's signals to its confidence.
var Calibration = Calibrator{
	W:    [calibN]float64{1, -2, 2, 0.5, 0.2, 0.5, 1, 0.5},
	Bias: -1,
}

// Thresholds on the calibrated confidence: from Answer the top article is
// answered, from Unsure "did you mean" buttons are offered.
const (
	AnswerThreshold = 0.5
	UnsureThreshold = 0.25
	// SuggestThreshold: runners-up from this confidence are offered as
	// buttons beside an answer or a "did you mean".
	SuggestThreshold = 0.02
)
