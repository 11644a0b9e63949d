//go:build !race

package telegram

// raceBuild: see race_test.go.
const raceBuild = false
