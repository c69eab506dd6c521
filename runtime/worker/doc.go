// Package worker is the platform-neutral core of a Helios render worker.
//
// A worker turns one invocation, {jobPath, chunkIndex}, into a finished
// chunk: it checks the jobPath against Config.AllowedJobPaths when that is
// set ([ErrJobPathNotAllowed], before anything is fetched), loads the job
// spec through a [Source], finds the chunk, splits its command into argv
// without a shell, runs it in a fresh workspace below the configured root
// with the HELIOS_* environment, passes its output through to the worker's
// own logs while keeping a bounded tail of each stream, kills the whole
// process group when the invocation is cancelled, and removes the
// workspace whatever the outcome.
//
// A failure is classified by its [Kind] ([Result.Kind]): whether the
// invocation, the spec, the command or its output is at fault, which
// trying again cannot mend, or a store, a timeout or a cancellation,
// which may pass. An uploaded output is named with its size and the
// SHA-256 of the bytes that were sent.
//
// The platform packages (runtime/awslambda and runtime/cloudrun) decode
// the invocation with [DecodeRequest], call [Worker.Run] and write the
// [Result] in their own wire format, the kind as "errorKind" and the hash
// as "outputSha256". The wire contract they implement is
// described in CONTRACT.md of the Helios project.
package worker
