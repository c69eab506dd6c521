package cloudrun

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// Body is every response body. Fields that an outcome does not have are
// left out, as the contract's table shows.
type Body struct {
	ExitCode *int    `json:"exitCode,omitempty"`
	Stdout   *string `json:"stdout,omitempty"`
	Stderr   *string `json:"stderr,omitempty"`
	Message  string  `json:"message,omitempty"`
	// Additional fields, ignored by callers that predate them.
	DurationMs      int64 `json:"durationMs,omitempty"`
	StdoutTruncated bool  `json:"stdoutTruncated,omitempty"`
	StderrTruncated bool  `json:"stderrTruncated,omitempty"`
	// Renderer says how the command ran: "process", or "warm" (a `helios
	// render` in the warm renderer).
	Renderer string `json:"renderer,omitempty"`
	// Where the chunk's outputFile was uploaded, its size and the SHA-256
	// of the bytes sent (lowercase hex); present only when it was.
	OutputURL    string `json:"outputUrl,omitempty"`
	OutputBytes  *int64 `json:"outputBytes,omitempty"`
	OutputSHA256 string `json:"outputSha256,omitempty"`
	// ErrorKind classifies the failure (a [worker.Kind]); present in
	// every answer but a success.
	ErrorKind worker.Kind `json:"errorKind,omitempty"`
}

// Wire messages fixed by the contract.
const (
	msgMethod  = "Method Not Allowed"
	msgJSON    = "Invalid JSON payload"
	msgMissing = "Missing jobPath or chunkIndex"
)

// resultBody turns a chunk's Result into its status, [worker.Result.Status]
// (a jobPath outside HELIOS_ALLOWED_JOB_PATHS is a 403, a spec that could
// be read two ways a 400), and body.
func resultBody(r *worker.Result) (int, *Body) {
	status := r.Status()
	if !r.Started {
		return status, &Body{Message: r.Message(), ErrorKind: r.Kind()}
	}
	stdout, stderr := string(r.Stdout), string(r.Stderr)
	b := &Body{
		ExitCode:        &r.ExitCode,
		Stdout:          &stdout,
		Stderr:          &stderr,
		Message:         r.Message(),
		DurationMs:      r.Duration.Milliseconds(),
		Renderer:        r.Renderer,
		StdoutTruncated: r.StdoutTruncated,
		StderrTruncated: r.StderrTruncated,
	}
	if r.OutputURL != "" {
		b.OutputURL, b.OutputBytes, b.OutputSHA256 = r.OutputURL, &r.OutputBytes, r.OutputSHA256
	}
	if status != http.StatusOK {
		b.ErrorKind = r.Kind()
	}
	return status, b
}

// writeJSON answers with status and body as application/json.
func writeJSON(w http.ResponseWriter, status int, b *Body) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(b) // only strings, ints and bools
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes()) // a client that left cannot be answered
}

// writeMessage answers a failure that has a message only, of the given
// kind ("" for none).
func writeMessage(w http.ResponseWriter, status int, kind worker.Kind, msg string) {
	writeJSON(w, status, &Body{Message: msg, ErrorKind: kind})
}
