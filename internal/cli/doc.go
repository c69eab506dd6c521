// Package cli holds the helios-scaffold command line: the cobra commands
// (init aws, init cloudrun, generate, render, run, version), one file
// each (run's over several run_*.go files, on runtime/fanout), the plan
// printer, the next steps that init prints, and the mapping of errors to
// exit codes. The module root's main only wires a signal context to [Run].
package cli
