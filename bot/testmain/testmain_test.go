package testmain

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestMain: as a child of the tests below, IMPBOT_TESTMAIN_PARALLEL=1
// prints what Parallel(7) did, IMPBOT_TESTMAIN_EXIT=N exits
// with N through Exit at once, and IMPBOT_TESTMAIN_RACE=1 runs the tests
// (TestRacyChild among them) through Run.
func TestMain(m *testing.M) {
	if os.Getenv("IMPBOT_TESTMAIN_PARALLEL") != "" {
		set := Parallel(7)
		fmt.Printf("set=%v parallel=%s\n", set, flag.Lookup("test.parallel").Value)
		Exit(0)
	}
	if s := os.Getenv("IMPBOT_TESTMAIN_EXIT"); s != "" {
		n, _ := strconv.Atoi(s)
		Exit(n)
	}
	Run(m)
}

func child(t *testing.T, env string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), env)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &ee):
		return ee.ExitCode(), string(out)
	default:
		t.Fatal(err)
		return -1, ""
	}
}

// The exit status is the code given, whether it takes the short way out
// (0 under -race) or os.Exit.
func TestExitKeepsTheStatus(t *testing.T) {
	for _, code := range []int{0, 1, 3} {
		if got, out := child(t, "IMPBOT_TESTMAIN_EXIT="+strconv.Itoa(code)); got != code {
			t.Errorf("Exit(%d): the process exited with %d\n%s", code, got, out)
		}
	}
}

// TestRacyChild has a data race; it runs only as the child of
// TestARaceStillFailsTheRun.
func TestRacyChild(t *testing.T) {
	if os.Getenv("IMPBOT_TESTMAIN_RACE") == "" {
		t.Skip("run by TestARaceStillFailsTheRun")
	}
	x := 0
	done := make(chan bool)
	go func() { x++; done <- true }()
	x++
	<-done
	t.Log(x)
}

// Under -race, a race in a test still fails the run and the binary's exit
// status although Exit skips ThreadSanitizer's finalizer on success: the
// testing package reports it first.
func TestARaceStillFailsTheRun(t *testing.T) {
	if !RaceEnabled {
		t.Skip("needs -race")
	}
	code, out := child(t, "IMPBOT_TESTMAIN_RACE=1", "-test.run=^TestRacyChild$")
	if code == 0 || !strings.Contains(out, "WARNING: DATA RACE") || !strings.Contains(out, "race detected during execution of test") {
		t.Fatalf("a racy test exited with %d:\n%s", code, out)
	}
}

// Parallel sets -test.parallel when it was not given, and leaves a given
// value alone.
func TestParallelKeepsAGivenValue(t *testing.T) {
	if _, out := child(t, "IMPBOT_TESTMAIN_PARALLEL=1"); !strings.Contains(out, "set=true parallel=7") {
		t.Errorf("without -test.parallel: %s", out)
	}
	if _, out := child(t, "IMPBOT_TESTMAIN_PARALLEL=1", "-test.parallel=3"); !strings.Contains(out, "set=false parallel=3") {
		t.Errorf("with -test.parallel=3: %s", out)
	}
}
