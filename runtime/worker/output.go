package worker

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/internal/fsutil"
	"github.com/helios-project/helios-scaffold/runtime/internal/msg"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/store"
	"github.com/helios-project/helios-scaffold/runtime/worker/internal/fault"
)

// ErrOutputMissing is wrapped when a command exits 0 without writing the
// outputFile that is due for upload.
var ErrOutputMissing = errors.New("output file missing")

// output is where a chunk's outputFile goes, decided before the command
// runs so that a bad outputFile or location fails the chunk up front.
type output struct {
	name   string // outputFile, relative to the workspace
	target string // the object's location: the folder, "/", the outputFile
	sink   store.Sink
	max    int64 // Config.OutputMaxBytes: 0 for no bound
	stall  time.Duration
}

// outputFor returns the chunk's upload, or nil when no output location is
// set (neither the spec's outputUrl nor HELIOS_OUTPUT_URL).
func (w *Worker) outputFor(spec *jobspec.Spec, chunk *jobspec.Chunk) (*output, error) {
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
	rel := path.Clean(filepath.ToSlash(local))
	return &output{name: name, target: store.JoinLocation(folder, rel), sink: sink, max: w.cfg.OutputMaxBytes, stall: w.cfg.UploadStallTimeout}, nil
}

// OutputExists reports where the chunk's output goes and whether an
// object is already there. It is false with no error when no output
// location is set, and an error when the store cannot tell (it is no
// [store.Stater]) or failed to.
func (w *Worker) OutputExists(ctx context.Context, spec *jobspec.Spec, chunk *jobspec.Chunk) (string, bool, error) {
	out, err := w.outputFor(spec, chunk)
	if err != nil || out == nil {
		return "", false, err
	}
	st, ok := out.sink.(store.Stater)
	if !ok {
		return out.target, false, fmt.Errorf("output location %s: the store for %q cannot tell whether an object exists", out.target, store.Scheme(out.target))
	}
	ctx, cancel := context.WithTimeout(ctx, w.cfg.SpecTimeout)
	defer cancel()
	_, err = st.Stat(ctx, out.target)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return out.target, false, nil
	case err != nil:
		return out.target, false, fmt.Errorf("looking for %s: %w", out.target, msg.TrimLocation(err, out.target))
	}
	return out.target, true, nil
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
func (w *Worker) deliver(ctx context.Context, res *Result, out *output, dir string) {
	start := time.Now()
	n, sum, err := out.upload(ctx, dir)
	log := w.log().With("outputFile", out.name, "outputUrl", out.target)
	if err != nil {
		res.Err = err
		log.ErrorContext(ctx, "output not uploaded", "error", err, "outputBytes", n)
		return
	}
	res.OutputURL, res.OutputBytes, res.OutputSHA256 = out.target, n, sum
	log.DebugContext(ctx, "output uploaded", "outputBytes", n, "outputSha256", sum, "durationMs", time.Since(start).Milliseconds())
}

// upload puts the outputFile, and returns its size and the SHA-256 of the
// bytes that the sink read, in lowercase hex.
func (out *output) upload(ctx context.Context, dir string) (int64, string, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return 0, "", fault.With(KindWorker, fmt.Errorf("opening workspace: %w", err))
	}
	defer root.Close()
	f, info, err := fsutil.OpenRegular(root.OpenFile, filepath.FromSlash(out.name))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return 0, "", fmt.Errorf("%w: the command exited 0 without writing its outputFile %s", ErrOutputMissing, out.name)
	case errors.Is(err, store.ErrNotRegular):
		return 0, "", fault.With(KindOutput, fmt.Errorf("outputFile %w", err))
	case err != nil: // a link out of the workspace, say
		return 0, "", fault.With(KindOutput, fmt.Errorf("opening outputFile %s: %w", out.name, err))
	}
	defer f.Close()
	size := info.Size()
	if out.max > 0 && size > out.max {
		return size, "", fault.With(KindOutput, fmt.Errorf("outputFile %s is %d bytes, %w of %d bytes (%s)", out.name, size, store.ErrTooLarge, out.max, EnvOutputMaxBytes))
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	digest := newDigestReaderAt(f, size)
	src := &progressReaderAt{r: digest}
	defer watchStall(ctx, cancel, &src.last, out.stall, errUploadStalled)()
	if err := out.sink.Put(ctx, out.target, src, size); err != nil {
		return size, "", uploadFailed(ctx, out, src, size, out.stall, err)
	}
	sum, err := digest.sum()
	if err != nil {
		return size, "", fault.With(KindWorker, fmt.Errorf("outputFile %s: %w", out.name, err))
	}
	return size, sum, nil
}
