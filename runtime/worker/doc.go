// Package worker is the platform-neutral core of a Helios render worker.
//
// A worker turns one invocation, {jobPath, chunkIndex}, into a finished
// chunk: it checks the jobPath against Config.AllowedJobPaths when that is
// set ([ErrJobPathNotAllowed], before anything is fetched), loads the job
// spec through a [store.Source], finds the chunk, splits its command into argv
// without a shell, runs it in a fresh workspace below the configured root
// with the HELIOS_* environment, passes its output through to the worker's
// own logs while keeping a bounded tail of each stream, kills the whole
// process group when the invocation is cancelled, and removes the
// workspace whatever the outcome.
//
// A chunk that hangs is killed by the idle watch: when its processes
// write nothing to stdout or stderr and grow no file in its workspace
// (its TMPDIR included) for Config.ChunkIdleTimeout
// (HELIOS_CHUNK_IDLE_TIMEOUT, [DefaultChunkIdleTimeout] by default, 0 for
// off), its process group and the processes that left it are killed as
// for the chunk's timeout, and its Result wraps [ErrIdle] ("chunk 3: no
// output for 300 s; killed (HELIOS_CHUNK_IDLE_TIMEOUT)"), of kind
// [KindIdle], with the tails of its output. Any byte printed resets the
// watch; the workspace is looked at about every quarter of the timeout
// (5 s at most), by sizes and modification times, within a bound on the
// entries read.
//
// A failure is classified by its [Kind] ([Result.Kind]): whether the
// invocation, the spec, the command or its output is at fault, which
// trying again cannot mend, or a store, a timeout, an idle kill or a
// cancellation, which may pass. An uploaded output is named with its size
// and the SHA-256 of the bytes that were sent.
//
// The platform packages (runtime/awslambda and runtime/cloudrun) decode
// the invocation with [DecodeRequest], call [Worker.Run] and write the
// [Result] in their own wire format, the kind as "errorKind" and the hash
// as "outputSha256". The wire contract they implement is
// described in CONTRACT.md of the Helios project.
package worker
