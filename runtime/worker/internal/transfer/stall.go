package transfer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/internal/msg"
	"github.com/helios-project/helios-scaffold/runtime/worker/internal/fault"
)

// The causes of a transfer cut for making no progress.
var (
	errUploadStalled   = errors.New("upload stalled")
	errDownloadStalled = errors.New("download stalled")
)

// stallRetries is how many times a download that stalled is tried again.
const stallRetries = 2

// progressReaderAt notes when its file was last read from: the store
// reads the output as it sends it (a part at a time, a few at once), so
// reads stop when the upload stops moving.
type progressReaderAt struct {
	r    io.ReaderAt
	last atomic.Int64 // UnixNano of the last read
	read atomic.Int64 // bytes read, the furthest offset
}

func (p *progressReaderAt) ReadAt(b []byte, off int64) (int, error) {
	n, err := p.r.ReadAt(b, off)
	p.last.Store(time.Now().UnixNano())
	for end := off + int64(n); ; {
		cur := p.read.Load()
		if end <= cur || p.read.CompareAndSwap(cur, end) {
			break
		}
	}
	return n, err
}

// watchStall cancels ctx with cause once last (a UnixNano time, which the
// transfer sets as it moves) is stall old; the returned function stops
// the watch.
func watchStall(ctx context.Context, cancel context.CancelCauseFunc, last *atomic.Int64, stall time.Duration, cause error) func() {
	if stall <= 0 {
		return func() {}
	}
	last.Store(time.Now().UnixNano())
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(stall / 4)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case now := <-tick.C:
				if now.Sub(time.Unix(0, last.Load())) >= stall {
					cancel(cause)
					return
				}
			}
		}
	}()
	return func() { close(done) }
}

// uploadFailed says why the upload of out stopped: it stalled, the
// invocation ran out of time, its client went away (or it was cancelled),
// or the store refused it.
func uploadFailed(ctx context.Context, out *Upload, src *progressReaderAt, size int64, stall time.Duration, err error) error {
	what := fmt.Sprintf("uploading %s to %s", out.Name, out.Target)
	switch cause := context.Cause(ctx); {
	case errors.Is(cause, errUploadStalled): // the store's doing: it may pass
		return fault.With(fault.KindStore, fmt.Errorf("%s stalled: nothing moved for %v, with %d of %d bytes read (%s): %w",
			what, stall, src.read.Load(), size, EnvUploadStallTimeout, fault.ErrTimeout))
	case ctx.Err() == nil:
		return fmt.Errorf("%s: %w", what, msg.TrimLocation(err, out.Target))
	case errors.Is(ctx.Err(), context.DeadlineExceeded), errors.Is(fault.StopReason(ctx), fault.ErrTimeout):
		return fmt.Errorf("%s ran out of time: %w (%w)", what, fault.StopReason(ctx), err)
	default:
		return fmt.Errorf("%s stopped, with %d of %d bytes read: %w (%w)", what, src.read.Load(), size, fault.StopReason(ctx), err)
	}
}
