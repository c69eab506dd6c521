package worker

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/internal/msg"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/store"
	"github.com/helios-project/helios-scaffold/runtime/worker/internal/transfer"
)

// ErrOutputMissing is wrapped when a command exits 0 without writing the
// outputFile that is due for upload.
var ErrOutputMissing = transfer.ErrOutputMissing

// outputFor returns the upload of the chunk's attempt (0 or 1 for the
// first), or nil when no output location is set (neither the spec's
// outputUrl nor HELIOS_OUTPUT_URL).
func (w *Worker) outputFor(spec *jobspec.Spec, chunk *jobspec.Chunk, attempt int) (*transfer.Upload, error) {
	folder := cmp.Or(spec.OutputURL, w.cfg.OutputURL)
	if folder == "" {
		return nil, nil
	}
	name := chunk.OutputFile
	if name == "" {
		return nil, fmt.Errorf("chunk %d has no outputFile to upload to %s", chunk.ID, folder)
	}
	local := filepath.FromSlash(name)
	if !filepath.IsLocal(local) {
		return nil, fmt.Errorf("outputFile %q of chunk %d: %w", name, chunk.ID, ErrOutsideWorkspace)
	}
	if err := checkOutputURL(folder); err != nil {
		return nil, fmt.Errorf("output location %q: %w", folder, err)
	}
	src, err := w.source(store.ParseLocation(folder))
	if err != nil {
		return nil, fmt.Errorf("output location: %w", err)
	}
	sink, ok := src.(store.Sink)
	if !ok {
		return nil, fmt.Errorf("output location %s: the store for %q cannot write", folder, store.Scheme(folder))
	}
	rel := jobspec.AttemptName(path.Clean(filepath.ToSlash(local)), attempt)
	return &transfer.Upload{Name: name, Target: store.JoinLocation(folder, rel), Sink: sink, Max: w.cfg.OutputMaxBytes, Stall: w.cfg.UploadStallTimeout}, nil
}

// OutputExists reports where the chunk's output goes and whether an
// object is already there. It is false with no error when no output
// location is set, and an error when the store cannot tell (it is no
// [store.Stater]) or failed to.
func (w *Worker) OutputExists(ctx context.Context, spec *jobspec.Spec, chunk *jobspec.Chunk) (string, bool, error) {
	out, err := w.outputFor(spec, chunk, 0)
	if err != nil || out == nil {
		return "", false, err
	}
	st, ok := out.Sink.(store.Stater)
	if !ok {
		return out.Target, false, fmt.Errorf("output location %s: the store for %q cannot tell whether an object exists", out.Target, store.Scheme(out.Target))
	}
	ctx, cancel := context.WithTimeout(ctx, w.cfg.SpecTimeout)
	defer cancel()
	_, err = st.Stat(ctx, out.Target)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return out.Target, false, nil
	case err != nil:
		return out.Target, false, fmt.Errorf("looking for %s: %w", out.Target, msg.TrimLocation(err, out.Target))
	}
	return out.Target, true, nil
}

// checkOutputURL accepts "" (no uploads), a local folder, a file:// URL,
// and a bucket URL with a bucket (s3://renders/out).
func checkOutputURL(u string) error {
	switch s := store.Scheme(u); s {
	case "", "file":
		return nil
	case "http", "https":
		return errors.New("an output location is a folder of a store (s3://, gs://, file://), not an http URL")
	default:
		_, _, err := store.SplitBucket(u)
		return err
	}
}

// deliver uploads the output from the workspace dir and records where it
// went, its size and its SHA-256 in res; a failure becomes res.Err, and
// the exit code stays the command's. ctx is the invocation's: the upload
// counts against its deadline.
func (w *Worker) deliver(ctx context.Context, res *Result, out *transfer.Upload, dir string) {
	start := time.Now()
	n, sum, err := out.Put(ctx, dir)
	log := w.log().With("outputFile", out.Name, "outputUrl", out.Target)
	if err != nil {
		res.Err = err
		log.ErrorContext(ctx, "output not uploaded", "error", err, "outputBytes", n)
		return
	}
	res.OutputURL, res.OutputBytes, res.OutputSHA256 = out.Target, n, sum
	log.DebugContext(ctx, "output uploaded", "outputBytes", n, "outputSha256", sum, "durationMs", time.Since(start).Milliseconds())
}

// ErrOutsideWorkspace is wrapped when an asset path or an outputFile would
// land outside the chunk's workspace.
var ErrOutsideWorkspace = transfer.ErrOutsideWorkspace
