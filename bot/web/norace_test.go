//go:build !race

package web

// raceBuild: see race_test.go.
const raceBuild = false
