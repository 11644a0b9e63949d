//go:build race

package web

// raceBuild is true in a `go test -race` build. TestConcurrentSessions runs
// a quarter of its widgets under -race (the detector makes each round trip
// several times slower and finds nothing more with 500 widgets than with
// 125) and all of them without it: CI runs it as its own step without
// -race (.ci/run).
const raceBuild = true
