package worker

// CallResult is what a caller (runtime/awslambda/lambdacaller or
// runtime/cloudrun/runcaller) makes of a worker's answer, whichever the
// platform.
type CallResult struct {
	// StatusCode is the contract's status: 200 for success.
	StatusCode int
	// ExitCode is the chunk's exit code, when the answer carries one
	// (HasExitCode); -1 when the worker killed the chunk.
	ExitCode    int
	HasExitCode bool
	// Stdout and Stderr are the captured tails of the chunk's streams.
	Stdout, Stderr string
	// Message is the reason given for any status but 200.
	Message string
	// ErrorKind classifies a failure (a [Kind], such as "spec" or
	// "store"), as the worker gave it; "" for a success, and for an answer
	// that carries none (a worker that predates it, a platform's own).
	ErrorKind string
	// OutputURL is where the worker uploaded the chunk's outputFile,
	// OutputBytes its size and OutputSHA256 the SHA-256 of the bytes sent
	// (lowercase hex); all are empty when the answer names no upload, and
	// OutputSHA256 when the worker predates it.
	OutputURL    string
	OutputBytes  int64
	OutputSHA256 string
	// Renderer is how the chunk ran (RendererProcess, RendererWarm); ""
	// from a worker that predates it.
	Renderer string
}

// OK reports whether the chunk succeeded (status 200).
func (r *CallResult) OK() bool { return r.StatusCode == 200 }
