package service

import (
	"flag"
	"os"
	"testing"
)

// TestMain lets up to 8 tests of this package run at once (unless
// -test.parallel is given): by default only GOMAXPROCS do (2 on the CI
// machine), while many of these tests mostly wait (on hot-reload events,
// leases, the index retirer's grace period) rather than compute.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		if err := flag.Set("test.parallel", "8"); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}
