package service

import (
	"testing"

	"github.com/impbot/impbot/bot/testmain"
)

// TestMain lets up to 4 tests of this package run at once (unless
// -test.parallel is given): by default only GOMAXPROCS do (2 on the CI
// machine), while most of these tests wait (on leases, on fake Telegram
// and Discord servers, on reloads) rather than compute. It ends the binary
// without ThreadSanitizer's 1 s exit sleep under -race (package testmain).
func TestMain(m *testing.M) {
	testmain.Parallel(4)
	testmain.Run(m)
}
