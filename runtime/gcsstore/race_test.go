//go:build race

package gcsstore_test

const raceEnabled = true
