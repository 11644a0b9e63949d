//go:build race

package dialogue

// raceBuild is true in a `go test -race` build. TestConcurrentUsers plays
// fewer users at once under -race (the detector makes each step several
// times slower and finds nothing more with a thousand users than with a
// few hundred) and all of them without it: CI runs it as its own step
// without -race (.ci/run).
const raceBuild = true
