package fsutil

import (
	"context"
	"io"
	"os"
)

// CopyFile copies src into dst, a file it creates (it fails when dst
// exists), with mode 0644 less the umask. On Linux io.Copy between two
// files lets the kernel copy (copy_file_range), so the bytes do not pass
// through the process. A failed copy leaves dst partial: the caller
// writes to a name it removes on failure.
func CopyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// Reader returns a reader of r that fails with ctx's error once ctx is
// done, so that a local copy of a large file honours cancellation as a
// network transfer does.
func Reader(ctx context.Context, r io.Reader) io.Reader { return ctxReader{ctx, r} }

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
