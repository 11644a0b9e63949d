package index

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/impbot/impbot/knowledge"
)

// TestCalibrationDump writes the search signals of a question set to a JSON
// lines file, for tuning the confidence formula offline. It runs only when
// IMPBOT_CALIBRATE names the question sets (comma-separated) and
// IMPBOT_CALIBRATE_OUT the output file.
func TestCalibrationDump(t *testing.T) {
	sets, outPath := os.Getenv("IMPBOT_CALIBRATE"), os.Getenv("IMPBOT_CALIBRATE_OUT")
	if sets == "" || outPath == "" {
		t.Skip("set IMPBOT_CALIBRATE and IMPBOT_CALIBRATE_OUT to dump calibration data")
	}
	if v := os.Getenv("IMPBOT_FLOOR"); v != "" {
		fmt.Sscan(v, &weightFloor)
	}
	if v := os.Getenv("IMPBOT_RELFLOOR"); v != "" {
		fmt.Sscan(v, &relFloor)
	}
	b, err := knowledge.LoadShipped()
	if err != nil {
		t.Fatal(err)
	}
	ix, err := Build(b)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	out, err := os.Create(outPath)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	enc := json.NewEncoder(out)
	for _, f := range strings.Split(sets, ",") {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			var c struct {
				Q      string   `json:"q"`
				Expect []string `json:"expect"`
			}
			if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
				t.Fatal(err)
			}
			r, err := ix.Search(context.Background(), "en", c.Q, 8)
			if err != nil {
				t.Fatal(err)
			}
			if err := enc.Encode(map[string]any{"file": f, "q": c.Q, "expect": c.Expect, "known": r.Known, "anch": r.Anchored, "terms": r.Terms, "hits": r.Hits}); err != nil {
				t.Fatal(err)
			}
		}
		fh.Close()
	}
}
