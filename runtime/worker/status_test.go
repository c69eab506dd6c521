package worker

import (
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"syscall"
	"testing"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/store"
	"github.com/helios-project/helios-scaffold/runtime/worker/internal/fault"
)

// allKinds is every Kind: TestResultStatus must pin a status for each.
var allKinds = []Kind{KindPayload, KindSpec, KindNotAllowed, KindCommand, KindOutput, KindConfig,
	KindFailed, KindTimeout, KindIdle, KindCancelled, KindStore, KindWorker}

// Every kind of failure, and every error the worker classifies, has the
// one status that both platforms and the local target answer with. A
// kind does not decide the status alone: a jobPath refused is a 403, a
// store refusing the worker's credentials a 500, both not-allowed; an
// ambiguous spec is a 400, a spec not valid otherwise a 500, both spec.
func TestResultStatus(t *testing.T) {
	cfg := DefaultConfig()
	cfg.AllowedJobPaths = []string{"s3://jobs/"}
	notAllowed := cfg.CheckJobPath("s3://other/x.json")
	// A spec that Parse refuses is of kind spec, as the worker marks it.
	parse := func(spec string) error {
		_, err := jobspec.Parse([]byte(spec))
		return fault.With(KindSpec, err)
	}
	twice := parse(`{"id":"j","id":"k","chunks":[]}`)
	caseOnly := parse(`{"ID":"j","id":"k","chunks":[]}`)
	sameID := parse(`{"chunks":[{"id":1,"command":"true"},{"id":1,"command":"true"}]}`)
	notJSON := parse(`{`)
	noChunks := parse(`{"id":"j"}`)
	_, notFound := (&jobspec.Spec{}).Chunk(9)
	_, empty := jobspec.SplitCommand(" ")
	_, unterminated := jobspec.SplitCommand("sh -c 'true")
	_, backslash := jobspec.SplitCommand(`true \`)
	for _, e := range []error{notAllowed, twice, caseOnly, sameID, notJSON, noChunks, notFound, empty, unterminated, backslash} {
		if e == nil {
			t.Fatal("an error of the table is nil")
		}
	}
	startErr := func(err error) error {
		return fault.With(startKind(err), fmt.Errorf("starting chunk 0 command %q: %w", "x", err))
	}
	ran := func(code int, err error) *Result { return &Result{Started: true, ExitCode: code, Err: err} }
	refused := func(err error) *Result { return &Result{Err: err} }

	tests := []struct {
		name   string
		r      *Result
		kind   Kind
		status int
	}{
		{"success", ran(0, nil), "", 200},
		{"success, uploaded", &Result{Started: true, OutputURL: "s3://renders/out/chunk_0.mp4", OutputBytes: 2}, "", 200},

		// The command ran and failed: 500, whatever the kind.
		{"command exits 3", ran(3, nil), KindFailed, 500},
		{"command killed by a signal", &Result{Started: true, ExitCode: -1, Signal: "killed"}, KindFailed, 500},
		{"chunk timeout", ran(-1, fmt.Errorf("%w after 10m", ErrTimeout)), KindTimeout, 500},
		{"chunk idle", ran(-1, fmt.Errorf("chunk 3: %w for 300 s; killed", ErrIdle)), KindIdle, 500},
		{"chunk cancelled", ran(-1, ErrCanceled), KindCancelled, 500},
		{"output missing", ran(0, fmt.Errorf("%w: outputFile chunk_0.mp4", ErrOutputMissing)), KindOutput, 500},
		{"output over its limit", ran(0, fault.With(KindOutput, fmt.Errorf("chunk_0.mp4: %w", store.ErrTooLarge))), KindOutput, 500},
		{"upload refused", ran(0, fmt.Errorf("uploading x: %w", store.ErrAccessDenied)), KindNotAllowed, 500},
		{"upload failed", ran(0, errors.New("uploading x: connection reset by peer")), KindStore, 500},
		{"ran, an ambiguous error", ran(0, fmt.Errorf("uploading x: %w", jobspec.ErrAmbiguousJSON)), KindSpec, 500},
		{"ran, a jobPath error", ran(0, fmt.Errorf("uploading x: %w", ErrJobPathNotAllowed)), KindNotAllowed, 500},

		// Refused before the chunk ran: 403 for the jobPath, 400 for what
		// could be read two ways or a bad payload, else 500.
		{"jobPath not allowed", refused(notAllowed), KindNotAllowed, 403},
		{"jobPath not allowed, wrapped", refused(fmt.Errorf("job path %q: %w", "x", ErrJobPathNotAllowed)), KindNotAllowed, 403},
		{"spec read, access denied", refused(fmt.Errorf("reading job spec: %w", store.ErrAccessDenied)), KindNotAllowed, 500},
		{"spec read, permission", refused(fmt.Errorf("reading job spec: %w", fs.ErrPermission)), KindNotAllowed, 500},
		{"spec with a key twice", refused(twice), KindSpec, 400},
		{"spec with a key in another case", refused(caseOnly), KindSpec, 400},
		{"spec with two chunks of one id", refused(sameID), KindSpec, 400},
		{"spec not JSON", refused(notJSON), KindSpec, 500},
		{"spec without chunks", refused(noChunks), KindSpec, 500},
		{"chunk not found", refused(notFound), KindSpec, 500},
		{"asset outside the workspace", refused(fmt.Errorf("asset %q: %w", "../x", ErrOutsideWorkspace)), KindSpec, 500},
		{"no source for the scheme", refused(fmt.Errorf("ftp://x: %w", store.ErrNoSource)), KindSpec, 500},
		{"spec not a regular file", refused(fmt.Errorf("/dev/zero: %w", store.ErrNotRegular)), KindSpec, 500},
		{"spec over its limit", refused(fmt.Errorf("reading job spec: %w", store.ErrTooLarge)), KindSpec, 500},
		{"empty command", refused(empty), KindCommand, 500},
		{"unterminated quote", refused(unterminated), KindCommand, 500},
		{"trailing backslash", refused(backslash), KindCommand, 500},
		{"executable not found", refused(startErr(exec.ErrNotFound)), KindCommand, 500},
		{"not executable", refused(startErr(fs.ErrPermission)), KindCommand, 500},
		{"no descriptors left", refused(startErr(syscall.EMFILE)), KindWorker, 500},
		{"worker misconfigured", refused(fault.With(KindConfig, errors.New("invalid worker configuration: x"))), KindConfig, 500},
		{"spec not found", refused(fmt.Errorf("reading job spec: %w", store.ErrNotFound)), KindStore, 500},
		{"store failing", refused(errors.New("reading job spec: connection reset by peer")), KindStore, 500},
		{"assets timeout", refused(fmt.Errorf("%w: assets took longer than 5m", ErrTimeout)), KindTimeout, 500},
		{"cancelled before the chunk ran", refused(fmt.Errorf("%w: reading job spec: %w", ErrCanceled, store.ErrAccessDenied)), KindCancelled, 500},
		{"no jobPath", refused(jobspec.ErrPayloadFields), KindPayload, 400},
		{"payload not JSON", refused(jobspec.ErrPayloadSyntax), KindPayload, 400},
		{"payload not an object", refused(jobspec.ErrPayloadNotObject), KindPayload, 400},
		{"chunkIndex out of range", refused(jobspec.ErrChunkIndexRange), KindPayload, 400},
		{"refused, no error", &Result{}, KindFailed, 500},
	}
	seen := map[Kind]bool{}
	for _, tc := range tests {
		if got := tc.r.Kind(); got != tc.kind {
			t.Errorf("%s: Kind() = %q, want %q", tc.name, got, tc.kind)
		}
		if got := tc.r.Status(); got != tc.status {
			t.Errorf("%s: Status() = %d, want %d (kind %q, message %q)", tc.name, got, tc.status, tc.r.Kind(), tc.r.Message())
		}
		if !tc.r.Started && tc.r.Err != nil {
			if got := StatusOf(tc.r.Err); got != tc.status {
				t.Errorf("%s: StatusOf(Err) = %d, Status() = %d", tc.name, got, tc.status)
			}
		}
		seen[tc.kind] = true
	}
	for _, k := range allKinds {
		if !seen[k] {
			t.Errorf("no status pinned for kind %q", k)
		}
	}
}

// Every error of DecodeRequest is a 400, as both platforms answer it.
func TestStatusOfDecodeRequest(t *testing.T) {
	for _, payload := range []string{
		``, ` `, `{`, `nul`, `[]`, `"x"`, `3`, `null`,
		`{}`, `{"jobPath":1,"chunkIndex":0}`, `{"jobPath":"","chunkIndex":0}`, `{"jobPath":"x"}`,
		`{"jobPath":"x","chunkIndex":"1"}`, `{"jobPath":"x","chunkIndex":-1}`, `{"jobPath":"x","chunkIndex":1.5}`,
		`{"jobPath":"x","chunkIndex":9223372036854775808}`, `{"jobPath":"x","chunkIndex":1e400}`,
		`{"jobPath":"x","jobPath":"y","chunkIndex":0}`, `{"jobPath":"x","jobpath":"y","chunkIndex":0}`,
		`{"jobPath":"x","chunkIndex":0,"ChunkIndex":1}`,
	} {
		_, err := jobspec.DecodeRequest([]byte(payload))
		if err == nil {
			t.Errorf("DecodeRequest(%q) = nil, want an error", payload)
			continue
		}
		if got := StatusOf(err); got != 400 {
			t.Errorf("StatusOf(DecodeRequest(%q) = %v) = %d, want 400", payload, err, got)
		}
	}
	if _, err := jobspec.DecodeRequest([]byte(`{"jobPath":"x","chunkIndex":0}`)); err != nil || StatusOf(err) != 200 {
		t.Errorf("a valid payload: %v, status %d; want nil, 200", err, StatusOf(err))
	}
}

func TestLookupKind(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want Kind
		ok   bool
	}{
		{nil, "", false},
		{errors.New("connection reset by peer"), "", false},
		{fmt.Errorf("invoking: %w", errors.New("throttled")), "", false},
		{fmt.Errorf("reading job spec: %w", store.ErrNotFound), "", false},
		{fault.With(KindStore, errors.New("stalled")), KindStore, true},
		{fault.With(KindWorker, syscall.EMFILE), KindWorker, true},
		{fmt.Errorf("x: %w", ErrTimeout), KindTimeout, true},
		{fmt.Errorf("x: %w", jobspec.ErrChunkNotFound), KindSpec, true},
	} {
		k, ok := LookupKind(tc.err)
		if k != tc.want || ok != tc.ok {
			t.Errorf("LookupKind(%v) = %q, %v; want %q, %v", tc.err, k, ok, tc.want, tc.ok)
		}
		if want := KindOf(tc.err); ok && k != want {
			t.Errorf("LookupKind(%v) = %q, KindOf %q", tc.err, k, want)
		}
	}
}
