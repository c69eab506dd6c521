// Package fanout renders a whole Helios job: it calls a worker once per
// chunk of the job spec, a bounded number at a time, tries again what
// failed for a reason that may pass (throttling, a dropped connection, a
// worker the platform killed) after a jittered exponential backoff,
// records every finished chunk in an append-only state file so that a
// second run skips it, and runs the spec's mergeCommand over the outputs.
//
// A [Target] is where chunks run: [Local] runs the worker core in this
// process; a deployed worker is reached through
// runtime/awslambda/lambdacaller or runtime/cloudrun/runcaller, whose
// Callers are Targets as they are. The package parses no flags and
// imports no cloud SDK; helios-scaffold run wires it to its command line.
package fanout
