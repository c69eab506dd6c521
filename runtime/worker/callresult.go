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
	// OutputURL is where the worker uploaded the chunk's outputFile, and
	// OutputBytes its size; both are empty when the answer names no upload.
	OutputURL   string
	OutputBytes int64
}

// OK reports whether the chunk succeeded (status 200).
func (r *CallResult) OK() bool { return r.StatusCode == 200 }
