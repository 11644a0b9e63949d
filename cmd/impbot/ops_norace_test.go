//go:build !race

package main

const opsRace = false
