//go:build race

package main

const opsRace = true
