//go:build !linux

package procfs

import "time"

// WithEntry finds nothing outside Linux.
func WithEntry(entry string) []int { return nil }

// Kill finds nothing to kill outside Linux.
func Kill(entry string, wait time.Duration) int { return 0 }

// Running reports false outside Linux.
func Running(pid int) bool { return false }

// Children lists nothing outside Linux.
func Children(pid int) ([]int, bool) { return nil, false }

// RSS is unknown outside Linux: 0.
func RSS(pid int) int64 { return 0 }
