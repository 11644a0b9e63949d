package dialogue

import (
	"testing"

	"github.com/impbot/impbot/bot/testmain"
)

// TestMain ends the binary without ThreadSanitizer's 1 s exit sleep under
// -race (see package testmain).
func TestMain(m *testing.M) { testmain.Run(m) }
