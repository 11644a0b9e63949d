package index

import (
	"fmt"
	"os"
	"reflect"
	"sync"
	"testing"

	"github.com/impbot/impbot/bot/testmain"
	"github.com/impbot/impbot/knowledge"
)

// The embedded knowledge is parsed once per test binary (a parse costs
// about 0.7 CPU-s under -race, and some twenty tests need it) and the
// shipped index built from it once. The functions given to the sync.Onces
// only record errors: a t.Fatal inside once.Do would end the first
// caller's goroutine and leave the others a nil value.
var (
	shippedBaseOnce sync.Once
	shippedBaseKB   *knowledge.Base
	shippedBaseErr  error

	shippedOnce  sync.Once
	shippedIx    *Index
	shippedIxErr error
)

// shippedBase is the embedded knowledge, shared by every test of the
// binary: tests must not change it (Subset and smallBase make new
// articles maps; a test that edits an article edits a copy). TestMain
// checks that none did.
func shippedBase(t testing.TB) *knowledge.Base {
	t.Helper()
	shippedBaseOnce.Do(func() { shippedBaseKB, shippedBaseErr = knowledge.LoadShipped() })
	if shippedBaseErr != nil {
		t.Fatal(shippedBaseErr)
	}
	return shippedBaseKB
}

// shipped is the index of the embedded knowledge, built once per test
// binary and shared: tests only search it.
func shipped(t testing.TB) *Index {
	t.Helper()
	kb := shippedBase(t)
	shippedOnce.Do(func() { shippedIx, shippedIxErr = Build(kb) })
	if shippedIxErr != nil {
		t.Fatal(shippedIxErr)
	}
	return shippedIx
}

// TestMain runs the tests, then checks that the shared knowledge is still
// what the embedded files parse to: a test that changed it would have
// changed what the tests after it saw.
func TestMain(m *testing.M) {
	code := m.Run()
	// Not in the replica processes of TestReplicasShareACacheFolder (one
	// test each, nothing to share with, and six extra parses under -race).
	if shippedBaseKB != nil && os.Getenv("IMPBOT_CACHE_REPLICA") == "" {
		fresh, err := knowledge.LoadShipped()
		if err != nil {
			fmt.Fprintln(os.Stderr, "reload the embedded knowledge:", err)
			code = 1
		} else if !reflect.DeepEqual(fresh, shippedBaseKB) {
			fmt.Fprintln(os.Stderr, "FAIL: a test changed the shared knowledge (shippedBase): copy what you edit")
			code = 1
		}
	}
	testmain.Exit(code) // without ThreadSanitizer's exit sleep (package testmain)
}
