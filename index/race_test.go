//go:build race

package index

// raceBuild is true in a `go test -race` build. Tests whose only job is to
// check answers over thousands of questions check a sample under -race (the
// detector makes each search several times slower and finds nothing more
// in the thousandth question than in the tenth) and the whole set without
// it: `go test ./index`, which CI runs as its own step (.ci/run).
const raceBuild = true
