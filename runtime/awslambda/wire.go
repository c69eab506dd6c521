package awslambda

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
	"github.com/helios-project/helios-scaffold/runtime/worker/merge"
)

// Response is what the handler answers; the Lambda runtime sends it as is.
type Response struct {
	StatusCode int `json:"statusCode"`
	// Body is a JSON document, [Body], carried as a string.
	Body string `json:"body"`
}

// Body is the document inside Response.Body. Fields that an outcome does
// not have are left out, as the contract's table shows.
type Body struct {
	ExitCode *int    `json:"exitCode,omitempty"`
	Output   *string `json:"output,omitempty"` // the chunk's stdout
	Stderr   *string `json:"stderr,omitempty"`
	Message  string  `json:"message,omitempty"`
	// Additional fields, ignored by callers that predate them.
	DurationMs      int64 `json:"durationMs,omitempty"`
	OutputTruncated bool  `json:"outputTruncated,omitempty"`
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
	// A merge's answer only: how many chunks' outputs were merged, the
	// frames that ffprobe decoded from the merged video (absent when it
	// was not checked), and what could not be checked (no ffprobe).
	Chunks  int    `json:"chunks,omitempty"`
	Frames  int64  `json:"frames,omitempty"`
	Warning string `json:"warning,omitempty"`
}

// Wire messages fixed by the contract.
const (
	msgNotObject = "Invalid payload: must be an object"
	msgFields    = "Invalid payload: missing jobPath or chunkIndex"
)

// MaxResponseBytes bounds the serialised response. Lambda replaces a
// synchronous response over 6 MB (6,291,556 bytes) with
// Function.ResponseSizeTooLarge, losing everything; this leaves room.
const MaxResponseBytes = 6_000_000

// decodeError answers a payload that DecodeRequest refused, with the
// status that [worker.StatusOf] gives it (400).
func decodeError(err error) Response {
	status := worker.StatusOf(err)
	switch {
	case errors.Is(err, jobspec.ErrPayloadFields) && !errors.Is(err, jobspec.ErrMergeRequest):
		return messageResponse(status, worker.KindPayload, msgFields)
	case errors.Is(err, jobspec.ErrAmbiguousJSON), errors.Is(err, jobspec.ErrChunkIndexRange),
		errors.Is(err, jobspec.ErrAttempt), errors.Is(err, jobspec.ErrFailAsError), errors.Is(err, jobspec.ErrMergeRequest):
		return messageResponse(status, worker.KindPayload, "Invalid payload: "+err.Error())
	}
	return messageResponse(status, worker.KindPayload, msgNotObject)
}

// messageResponse answers a failure that has a message only: the
// invocation or the chunk could not run, of the given kind.
func messageResponse(status int, kind worker.Kind, msg string) Response {
	return encode(status, &Body{Message: clip(msg), ErrorKind: kind})
}

// maxMessageBytes bounds a message: a reason may quote the jobPath or the
// command, which the caller may have made as long as the request allows.
const maxMessageBytes = 4096

// clip shortens msg to maxMessageBytes, at a character boundary.
func clip(msg string) string {
	if len(msg) <= maxMessageBytes {
		return msg
	}
	cut := maxMessageBytes
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return msg[:cut] + "…"
}

// resultResponse answers a chunk's Result with its status, [worker.Result.Status]
// (a jobPath outside HELIOS_ALLOWED_JOB_PATHS is a 403, a spec that could
// be read two ways a 400), cutting the front of its output until the
// whole serialised response fits in MaxResponseBytes.
func resultResponse(r *worker.Result) Response { return fitResponse(r, Body{}) }

// mergeResponse answers a merge as a chunk is answered, with what it
// merged and checked.
func mergeResponse(r *merge.Result) Response {
	return fitResponse(&r.Result, Body{Chunks: r.Chunks, Frames: r.Frames, Warning: r.Warning})
}

// fitResponse is resultResponse with the fields of b added to the answer
// of a command that ran.
func fitResponse(r *worker.Result, b Body) Response {
	status := r.Status()
	if !r.Started {
		return messageResponse(status, r.Kind(), r.Message())
	}
	stdout, stderr := r.Stdout, r.Stderr
	b.ExitCode = &r.ExitCode
	b.Message = clip(r.Message())
	b.DurationMs = r.Duration.Milliseconds()
	b.Renderer = r.Renderer
	b.OutputTruncated, b.StderrTruncated = r.StdoutTruncated, r.StderrTruncated
	if r.OutputURL != "" {
		b.OutputURL, b.OutputBytes, b.OutputSHA256 = r.OutputURL, &r.OutputBytes, r.OutputSHA256
	}
	if status != 200 {
		b.ErrorKind = r.Kind()
	}
	for {
		out, errs := string(stdout), string(stderr)
		b.Output, b.Stderr = &out, &errs
		resp := encode(status, &b)
		n := size(resp)
		over := n - MaxResponseBytes
		if over <= 0 {
			return resp
		}
		// A byte of output costs from 1 to 7 bytes of response (control
		// characters become \\u0000 once nested): cut by the average cost,
		// and again if the bytes cut were cheaper than that.
		cost := float64(n) / float64(len(stdout)+len(stderr)+1)
		// Share the cut in proportion, so that each stream keeps a tail.
		cut := max(int(float64(over)/cost)+1, 1024)
		outCut := int(int64(cut) * int64(len(stdout)) / int64(len(stdout)+len(stderr)+1))
		if outCut > 0 {
			stdout, b.OutputTruncated = cutFront(stdout, outCut), true
		}
		if errCut := cut - outCut; errCut > 0 && len(stderr) > 0 {
			stderr, b.StderrTruncated = cutFront(stderr, errCut), true
		}
	}
}

// cutFront drops the first n bytes of b, and then the rest of a character
// whose start was dropped.
func cutFront(b []byte, n int) []byte {
	if n >= len(b) {
		return nil
	}
	b = b[n:]
	for i := 0; i < utf8.UTFMax-1 && len(b) > 0 && !utf8.RuneStart(b[0]); i++ {
		b = b[1:]
	}
	return b
}

func encode(status int, b *Body) Response {
	return Response{StatusCode: status, Body: string(marshal(b))}
}

// size is the length of the response as it goes on the wire.
func size(r Response) int { return len(marshal(r)) }

// marshal encodes v without HTML escaping, which would turn each < > & of
// the chunk's output into six bytes, and then seven once nested.
func marshal(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil { // only strings, ints and bools
		panic(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
