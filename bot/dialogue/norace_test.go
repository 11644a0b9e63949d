//go:build !race

package dialogue

// raceBuild: see race_test.go.
const raceBuild = false
