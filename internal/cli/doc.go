// Package cli holds the helios-scaffold command line: the cobra commands
// (init aws, init cloudrun, generate, version), one file each, the plan
// printer, the next steps that init prints, and the mapping of errors to
// exit codes. The module root's main only wires a signal context to [Run].
package cli
