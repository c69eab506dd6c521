// Package fanout renders a whole Helios job: it calls a worker once per
// chunk of the job spec, a bounded number at a time, tries again what
// failed for a reason that may pass (throttling, a dropped connection, a
// worker the platform killed, a chunk the worker killed for idling, a
// call past its ChunkTimeout) after a jittered exponential backoff,
// records every finished chunk in an append-only state file so that a
// second run skips it, and runs the spec's mergeCommand over the outputs.
//
// Nothing unproven is merged. A worker answers with the size and SHA-256
// of the output it put, and the state records them ([Record]).
// [ProveLocal] checks outputs in a folder against them, [ProveListed]
// checks a bucket's listing, and [Collect] hashes every download as it
// arrives; what does not match is a [BadOutput], for the caller to forget
// ([State.Forget]) and render again.
//
// One run holds a state file at a time ([OpenState] locks it, or waits),
// and the state is bound to the spec and to the project files it renders
// from ([Inputs]): other inputs start it over. Everything a run starts
// carries [EnvRun] in its environment, so that the next run on the same
// state kills what a killed one left; [Merge] runs in a process group
// that dies with it.
//
// A [Target] is where chunks run: [Local] runs the worker core in this
// process; a deployed worker is reached through
// runtime/awslambda/lambdacaller or runtime/cloudrun/runcaller, whose
// Callers are Targets as they are. The package parses no flags and
// imports no cloud SDK; helios-scaffold run wires it to its command line.
package fanout
