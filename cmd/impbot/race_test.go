//go:build race

package main

// raceBuild is true in a `go test -race` build: TestClusterWebhookE2E then
// runs fewer users (e2eDefaultUsers), and CI runs it whole without -race
// (.ci/run).
const raceBuild = true
