// Package jobspec reads the JSON documents of the Helios worker
// contract, all untrusted: the invocation payload, {jobPath, chunkIndex}
// ([Request], [DecodeRequest]); the job spec that jobPath names ([Spec],
// [Parse]); and the payload of a merge of a job's chunks, which names an
// action ([MergeRequest], [DecodeMergeRequest]). It also splits a chunk's
// command into argv the way a POSIX shell splits words, without running
// one ([SplitCommand]).
//
// Parsing is strict where a document could be read two ways: a key
// twice in an object, a key that differs from a field only in case, or
// two chunks with one id are [ErrAmbiguousJSON], which the platforms
// answer with 400. Fields the package does not know are allowed: the
// Helios CLI writes more than a worker reads.
//
// A spec comes from `helios render --emit-job job.json`: it has no id
// (the worker names the job after the spec's file), its outputFile
// values are relative, and its commands read
// `helios render composition.html -o out_part_0.mp4 --start-frame 0 --frame-count 150`.
//
// The package has no dependencies beyond the standard library, so that
// an invoker can build payloads and read specs without linking a worker.
package jobspec
