package service

import (
	"context"
	"fmt"
	"io"

	"github.com/impbot/impbot/index"
)

// KBCV re-runs the cross-validation that chose the ranker's settings,
// calibration and thresholds (index/tuned.go), and prints the figures and
// the values to record. grid also tries the other settings of the grid;
// misses lists the held-out questions ranked wrong.
func KBCV(ctx context.Context, stdout io.Writer, kdir string, folds int, grid, misses bool) error {
	b, err := loadKnowledge(kdir)
	if err != nil {
		return err
	}
	cfgs := []index.RankConfig{index.DefaultRank}
	if grid {
		cfgs = index.RankGrid()
	}
	var best index.CVResult
	bestScore := -1.0
	for i, cfg := range cfgs {
		r, err := index.RunCV(ctx, b, folds, cfg)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "config %d: %+v\n  score %.4f\n", i, cfg, r.Score)
		for _, f := range r.Figures {
			fmt.Fprintf(stdout, "  %s\n", f)
		}
		if r.Score > bestScore {
			best, bestScore = r, r.Score
		}
	}
	fmt.Fprintf(stdout, "\nbest (%d-fold CV):\n%s\n", folds, best.GoCode())
	if misses {
		for _, l := range b.Langs() {
			for _, m := range index.CVMisses(best.Records, l) {
				fmt.Fprintf(stdout, "miss %s %s\n", l, m)
			}
		}
	}
	return nil
}
