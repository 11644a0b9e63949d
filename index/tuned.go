package index

// The values below were chosen by k-fold cross-validation over the
// knowledge's own questions (`impbot kb cv`, TestCrossValidation): never by
// hand against an evaluation set. Re-run the cross-validation after large
// knowledge changes and paste what it prints.

// DefaultRank is the ranker's configuration.
var DefaultRank = RankConfig{
	Epochs: 6, LR: 2, L2: 0.0001,
	WStem: 1, WPair: 0.5, WSyn: 0.7, WChar: 0.5, WFocus: 0.5,
	WRanker: 1, WBleve: 1, RRFK: 2,
	WTitle: 1, WKeyword: 0.5, WSummary: 0.5, NormPow: 0.5,
	MaxRankerArticles: 200,
}

// CV figures (`go run ./cmd/impbot kb cv`, 5 folds, 2026-12-06, knowledge
// with the story, employer-voice, pair-separating, emoji, rumour, what-if,
// request and learner phrasings and 328 + 316 unrelated examples; the
// calibrator reads the unrelated class's logit and weighs unrelated
// examples 2.5 times, see UnrelatedWeight in cv.go; without both, on the
// knowledge of 2026-12-05, score 3.646, en top-1 0.862 top-3 0.971 rejected
// 0.923 Brier 0.0955, fr 0.853 / 0.960 / 0.916 / 0.1023):
// en: 3264 questions, 328 unrelated: ranked first 0.885, top-1 0.875, top-3 0.972, unrelated rejected 0.927 (0.021 of them with buttons), redirects 0.885, Brier 0.089, answered 3240 (0.881 right), did-you-mean 35 (0.771 with the right button)
// fr: 2980 questions, 316 unrelated: ranked first 0.876, top-1 0.867, top-3 0.965, unrelated rejected 0.924 (0.035 of them with buttons), redirects 0.906, Brier 0.099, answered 2945 (0.877 right), did-you-mean 42 (0.619 with the right button)
// `kb cv --grid` on this knowledge: the recorded settings are the grid's
// best (3.679); body text at 0.3 3.678, WFocus 0.25 3.676, augmentation
// and body 3.677, LR 3 3.671, WFocus 0 3.673, WFocus 1 3.655. On the
// knowledge before the last 488 phrasings the grid's best was WFocus 0.7 by
// 0.005, and before that WFocus 0 by 0.006: differences of this size
// reverse with an edit of the knowledge, so the settings stay.
// These are a fixed point: the calibration's fit no longer depends on the
// calibration recorded here (FitCalibration), and re-running kb cv gives
// them again. The earlier recording (ranked first en 0.870, top-1 0.855,
// rejected 0.936) had been fitted to its predecessor's order of candidates.
// The asking sentence's own feature family (WFocus) at 0, 0.25, 0.5, 0.7,
// 1: ranked first en 0.866, 0.867, 0.870, 0.869, 0.867; fr 0.857, 0.859,
// 0.861, 0.857, 0.856 (the score kb cv prints: 3.614, 3.617, 3.630, 3.619,
// 3.611).
// Before the "did you mean" band opened and the unrelated examples grew
// from 140 + 105 (same day): answer threshold 0.35, en top-1 0.842, top-3
// 0.934, rejected 0.929; fr 0.826, 0.917, 0.933.
//
// `kb cv --grid` scores LR 3 a little higher (en top-1 0.848, top-3 0.945;
// fr 0.832, 0.925; answer threshold 0.325) but it is not recorded: at that
// threshold dev.jsonl's regression floor fails (14 of its 15 unrelated
// questions rejected, the floor wants all: "convert usd to cad in excel"
// is answered at 0.343), a sign that CV's rejection estimate is optimistic
// by more than its standard error there.

// Calibration maps a candidate's signals to its confidence.
var Calibration = Calibrator{
	W:    [calibN]float64{0.608, -2.912, 1.380, 1.090, 4.488, 0.171, 2.294, 0.754, 1.202, 0.177},
	Bias: -8.194,
}

// Thresholds on the calibrated confidence: from Answer the top article is
// answered, from Unsure "did you mean" buttons are offered. Answer maximises
// cross-validated top-1 + top-3 subject to unrelated examples given no
// article ≥ 0.90 one standard error low in each language (cvObjective in
// cv.go states why). Unsure is as low as the band's buttons stay useful: at
// its edge, the held-out questions within 0.05 above it had their right
// article among the buttons at least half the time in both languages
// (ChooseThresholds). The band is only for questions with a domain word
// (Result.Anchored). Of the unrelated examples, 0.021 (en) and 0.035 (fr)
// get such buttons rather than the plain "I can't help with that".
const (
	AnswerThreshold = 0.175
	UnsureThreshold = 0.100
	// SuggestThreshold: runners-up from this confidence are offered as
	// buttons beside an answer (at most 2) or a "did you mean" (3 in all).
	// It is the highest that keeps CV top-3 within 0.005 of offering every
	// runner-up (ChooseThresholds).
	SuggestThreshold = 0.005
)
