//go:build race

package telegram

// raceBuild is true in a `go test -race` build. TestSplitRandomized checks
// a third of its generated texts under -race (the detector finds nothing in
// single-goroutine splitting, and makes it several times slower) and all of
// them without it: CI runs it as its own step without -race (.ci/run).
const raceBuild = true
