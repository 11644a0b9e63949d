package main

import (
	"flag"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/impbot/impbot/bot/testmain"
)

// allAtOnce is set when TestMain chose -test.parallel (see below).
var allAtOnce bool

// TestMain lets every test of this package run at once (unless
// -test.parallel is given): by default only GOMAXPROCS do (2 on the CI
// machine), while the child-process tests (replicas, `impbot serve`,
// `impbot chat`) mostly wait, on leases, send limits and replicas starting,
// rather than compute, and should all run at once: the longest of them,
// TestClusterWebhookE2E, is the package's time. The tests that compute in
// this process take turns instead (cpuBound), and the other child-process
// tests start their processes once its replicas are up (afterE2EStart).
func TestMain(m *testing.M) {
	allAtOnce = testmain.Parallel(64)
	testmain.Run(m) // no ThreadSanitizer exit sleep under -race (package testmain)
}

// cpuSlots bounds how many cpuBound tests run at once: GOMAXPROCS, as
// go test's own -test.parallel would (with only 1 of them at a time, the
// replicas of the child-process tests start faster, but on a loaded
// machine the in-process tests, one after another, then end after them).
var cpuSlots = make(chan struct{}, runtime.GOMAXPROCS(0))

// cpuBound marks t parallel, as a test that computes in this process (the
// CLI run in process: knowledge loaded, questions answered) rather than
// waiting, and holds it until one of cpuSlots is free.
func cpuBound(t *testing.T) {
	t.Helper()
	t.Parallel()
	cpuSlots <- struct{}{}
	t.Cleanup(func() { <-cpuSlots })
}

// e2eStarted is closed when TestClusterWebhookE2E's replicas are ready, or
// when it ends or is skipped before that (e2eStartedNow).
var (
	e2eStarted    = make(chan struct{})
	e2eStartedNow = sync.OnceFunc(func() { close(e2eStarted) })
)

// afterE2EStart waits, in a test that starts child processes, until
// TestClusterWebhookE2E's replicas are up, when that test runs in this
// invocation beside it: starting a race-built process costs about a CPU
// second, and that test, the longest, would otherwise start its three
// replicas while the others start theirs (its replicas ready in 4-5 s
// instead of 2 s on 2 cores). The others, shorter, still end before it.
// It does not wait when the tests do not all run at once (-test.parallel
// given) or when -test.run or -test.skip leave that test out (a -run
// pattern with subtests or alternatives counts as leaving it out: then
// nothing waits, which only costs time).
func afterE2EStart(t *testing.T) {
	t.Helper()
	if !allAtOnce || !selected("TestClusterWebhookE2E") {
		return
	}
	<-e2eStarted
}

// selected reports whether the top-level test name is surely run by the
// -test.run and -test.skip patterns (simple patterns only: see
// afterE2EStart).
func selected(name string) bool {
	if testing.Short() {
		return false
	}
	if run := flag.Lookup("test.run").Value.String(); run != "" {
		if strings.ContainsAny(run, "/|") {
			return false
		}
		if ok, err := regexp.MatchString(run, name); err != nil || !ok {
			return false
		}
	}
	if skip := flag.Lookup("test.skip").Value.String(); skip != "" {
		if ok, err := regexp.MatchString(skip, name); err != nil || ok || strings.ContainsAny(skip, "/|") {
			return false
		}
	}
	return true
}
