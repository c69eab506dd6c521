package transfer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/internal/fsutil"
	"github.com/helios-project/helios-scaffold/runtime/store"
	"github.com/helios-project/helios-scaffold/runtime/worker/internal/fault"
)

// ErrOutputMissing is wrapped when a command exits 0 without writing the
// outputFile that is due for upload.
var ErrOutputMissing = errors.New("output file missing")

// An Upload is where a chunk's outputFile goes, decided before the
// command runs so that a bad outputFile or location fails the chunk up
// front.
type Upload struct {
	Name   string // outputFile, relative to the workspace
	Target string // the object's location: the folder, "/", the outputFile
	Sink   store.Sink
	Max    int64         // 0 for no bound (HELIOS_OUTPUT_MAX_BYTES)
	Stall  time.Duration // HELIOS_UPLOAD_STALL_TIMEOUT; 0 for none
}

// Put puts the outputFile from the workspace folder dir, and returns its
// size and the SHA-256 of the bytes that the sink read, in lowercase hex.
func (out *Upload) Put(ctx context.Context, dir string) (int64, string, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return 0, "", fault.With(fault.KindWorker, fmt.Errorf("opening workspace: %w", err))
	}
	defer root.Close()
	f, info, err := fsutil.OpenRegular(root.OpenFile, filepath.FromSlash(out.Name))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return 0, "", fmt.Errorf("%w: the command exited 0 without writing its outputFile %s", ErrOutputMissing, out.Name)
	case errors.Is(err, store.ErrNotRegular):
		return 0, "", fault.With(fault.KindOutput, fmt.Errorf("outputFile %w", err))
	case err != nil: // a link out of the workspace, say
		return 0, "", fault.With(fault.KindOutput, fmt.Errorf("opening outputFile %s: %w", out.Name, err))
	}
	defer f.Close()
	size := info.Size()
	if out.Max > 0 && size > out.Max {
		return size, "", fault.With(fault.KindOutput, fmt.Errorf("outputFile %s is %d bytes, %w of %d bytes (%s)", out.Name, size, store.ErrTooLarge, out.Max, EnvOutputMaxBytes))
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	digest := newDigestReaderAt(f, size)
	src := &progressReaderAt{r: digest}
	defer watchStall(ctx, cancel, &src.last, out.Stall, errUploadStalled)()
	if err := out.Sink.Put(ctx, out.Target, src, size); err != nil {
		return size, "", uploadFailed(ctx, out, src, size, out.Stall, err)
	}
	sum, err := digest.sum()
	if err != nil {
		return size, "", fault.With(fault.KindWorker, fmt.Errorf("outputFile %s: %w", out.Name, err))
	}
	return size, sum, nil
}
