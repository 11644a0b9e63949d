// Package testmain starts and ends the project's test binaries. Each
// package's TestMain calls Run (or Exit, when it has work of its own after
// the tests); packages whose tests mostly wait call Parallel first.
//
// In a -race build, os.Exit(0) runs ThreadSanitizer's finalizer, which
// sleeps GORACE's atexit_sleep_ms (1 s by default) before the process
// ends, to catch races of goroutines still running at exit. By then
// testing.M.Run has already failed the run on every race reported during
// the tests or after them ("race detected outside of test execution"), so
// the sleep adds a second to each test binary of `go test -race ./...`
// (and to each race-built child process a test starts) and finds nothing
// the run has not reported. Exit skips it: a passing run ends at once.
package testmain

import (
	"flag"
	"os"
	"strconv"
	"syscall"
	"testing"
)

// Parallel lets up to n tests of the package run at once, unless
// -test.parallel was given (by default only GOMAXPROCS do: 2 on the CI
// machine), and reports whether it set it. For packages whose tests mostly
// wait (on fake servers, leases, rate windows, child processes) rather
// than compute. It parses the flags, as TestMain must before reading them.
func Parallel(n int) bool {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if set {
		return false
	}
	if err := flag.Set("test.parallel", strconv.Itoa(n)); err != nil {
		panic(err)
	}
	return true
}

// Run runs the tests and exits with their status.
func Run(m *testing.M) { Exit(m.Run()) }

// Exit ends the test binary with code, without ThreadSanitizer's exit
// sleep when the build has -race and code is 0 (a failing run exits
// through os.Exit as usual).
func Exit(code int) {
	if RaceEnabled && code == 0 {
		syscall.Exit(0)
	}
	os.Exit(code)
}
