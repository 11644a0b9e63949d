package index

// The values below were chosen by k-fold cross-validation over the
// knowledge's own questions (`impbot kb cv`, TestCrossValidation): never by
// hand against an evaluation set. Re-run the cross-validation after large
// knowledge changes and paste what it prints.

// DefaultRank is the ranker's configuration.
var DefaultRank = RankConfig{
	Epochs: 6, LR: 2, L2: 0.0001,
	WStem: 1, WPair: 0.5, WSyn: 0.7, WChar: 0.8,
	WRanker: 1, WBleve: 1, RRFK: 2,
	WTitle: 1, WKeyword: 0.5, WSummary: 0.5,
}

// Calibration maps a candidate's signals to its confidence.
var Calibration = Calibrator{
	W:    [calibN]float64{0.817, -0.048, 0.010, 0.627, 0.540, 0.184, 0.611, -0.319, -0.149},
	Bias: -0.560,
}

// Thresholds on the calibrated confidence: from Answer the top article is
// answered, from Unsure "did you mean" buttons are offered.
const (
	AnswerThreshold = 0.500
	UnsureThreshold = 0.500
	// SuggestThreshold: runners-up from this confidence are offered as
	// buttons beside an answer or a "did you mean".
	SuggestThreshold = 0.02
)
