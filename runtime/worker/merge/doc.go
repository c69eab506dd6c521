// Package merge is the worker binary's merge mode: it merges the outputs
// of a job's chunks, rendered by other invocations of the same function,
// into the job's video, and uploads it. A Step Functions state machine
// renders the chunks with a Distributed Map of Lambda invocations, then
// invokes the same function once more with a [jobspec.MergeRequest]:
//
//	{"jobPath": "s3://b/jobs/x.json", "action": "merge",
//	 "outputs": [{"chunk": 0, "outputUrl": "s3://b/out/out_part_0.mp4", "outputBytes": 123, "outputSha256": "..."}, ...]}
//
// or, instead of outputs, "resultsUrl": the manifest.json that the
// Distributed Map's ResultWriter wrote ([ReadMapResults]). The platform
// package (runtime/awslambda) decodes it and calls [Run].
//
// [Run] does what helios-scaffold run does after its fan-out, with the
// same code (package runtime/fanout): every chunk that has an outputFile
// needs an output, found where its worker put it; they are downloaded
// into a fresh workspace of the worker's and proven against their
// workers' size and SHA-256 ([fanout.Collect]), checked as video with
// the ffprobe on PATH ([fanout.CheckVideos]), and merged by the spec's
// mergeCommand ([fanout.Merge]: no shell, the worker's environment, a
// process group of its own, killed when the invocation's time runs out);
// the merged video (the one video file that the mergeCommand names and
// no chunk's command does, [fanout.Job.MergedName]) is checked against
// the job's frames, and uploaded beside the outputs. Nothing is uploaded
// unless every check passed.
//
// The package lives below runtime/worker, whose workspace, transfer and
// failure machinery it shares, and above runtime/fanout, which imports
// the worker.
package merge
