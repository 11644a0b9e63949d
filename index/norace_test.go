//go:build !race

package index

// raceBuild: see race_test.go.
const raceBuild = false
