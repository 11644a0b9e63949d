//go:build race

package service

const opsRace = true
