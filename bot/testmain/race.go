//go:build race

package testmain

// RaceEnabled says the binary was built with -race.
const RaceEnabled = true
