// Package worker is the platform-neutral core of a Helios render worker:
// it turns one invocation, {jobPath, chunkIndex}, into a finished chunk.
// The platform packages (runtime/awslambda, runtime/cloudrun) decode the
// invocation ([jobspec.DecodeRequest]), call [Worker.Run] and write the
// [Result] in their wire format; helios-scaffold run's local target calls
// it in process. The wire contract they implement is CONTRACT.md of the
// Helios project.
//
// # An invocation
//
// [Worker.Run] reads the jobPath once into a [store.Location], checks it
// against Config.AllowedJobPaths when that is set ([ErrJobPathNotAllowed],
// before anything is fetched), loads the job spec through the [store.Source]
// for its scheme within Config.SpecTimeout and Config.SpecMaxBytes, and
// finds the chunk. A spec without an id is named after its file
// ([store.Location.JobName]). [Worker.RunChunk] then
//
//   - splits the chunk's command into argv without a shell
//     ([jobspec.SplitCommand]);
//   - makes a fresh workspace below Config.WorkspaceRoot
//     (helios-JOB-CHUNK-RANDOM, with work/ and tmp/), after removing, once
//     per worker, the workspaces that a killed worker left;
//   - fetches the spec's assetsUrl folder into work/, through the asset
//     cache when it is on (below);
//   - runs the command in work/, with TMPDIR in tmp/ and the HELIOS_*
//     variables, in a session and process group of its own, passing its
//     output through to the worker's logs a line at a time and keeping a
//     bounded tail of each stream for the answer;
//   - uploads the chunk's outputFile, when an output location is set
//     (the spec's outputUrl or HELIOS_OUTPUT_URL) and the command exited 0,
//     through the location's [store.Sink], naming it in the Result with
//     its size and the SHA-256 of the bytes sent;
//   - and removes the workspace, whatever the outcome.
//
// # Limits
//
// The command runs within Config.ChunkTimeout; the invocation's context
// cancels it too (the client left, the platform is shutting down). A
// command that writes nothing to stdout or stderr and grows no file in
// its workspace for Config.ChunkIdleTimeout (HELIOS_CHUNK_IDLE_TIMEOUT,
// [DefaultChunkIdleTimeout], 0 for off) is killed as for its timeout; its
// Result wraps [ErrIdle] ("chunk 3: no output for 300 s; killed
// (HELIOS_CHUNK_IDLE_TIMEOUT)"). Downloads and uploads that move nothing
// for their stall timeouts are cut (a download is tried again).
//
// # What this process becomes
//
// On Linux the first chunk makes the whole process a child subreaper
// (PR_SET_CHILD_SUBREAPER): whatever a chunk starts stays below the worker
// when its parent dies, so that the worker can kill and reap it. A
// program that embeds the worker therefore also adopts the orphans of its
// own children. When a chunk ends, its process group, the processes that
// carry its workspace in their environment and, once no chunk runs,
// everything left outside the worker's session are killed and reaped
// before the answer. Chunks are forked with oom_score_adj 1000, so that
// under a memory limit the kernel kills a chunk, not the worker.
//
// # The asset cache
//
// A warm worker keeps the asset files it downloaded in a cache below the
// workspace root (helios-cache, Config.AssetsCacheBytes,
// Config.AssetsCacheDir), keyed by location and version, and links them
// into the next chunks' workspaces (hard links, watched with inotify so
// that a chunk that writes to one loses it), downloading again only what
// changed. While a chunk runs it prepares a spare copy of the folder for
// the next one. [Worker.Close] removes the cache.
//
// # Failures
//
// A failure is classified by its [Kind] ([Result.Kind], [KindOf]):
// whether the invocation, the spec, the command or its output is at
// fault, which trying again cannot mend, or a store, a timeout, an idle
// kill or a cancellation, which may pass.
package worker
