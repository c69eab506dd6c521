package transfer

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"sync"
)

// digestReaderAt hashes the first size bytes of r as a [store.Sink] reads them,
// so that the output's SHA-256 is that of the bytes sent, and costs no
// read of its own: the stores read the file from its start to its end
// (a part at a time, or once for a checksum and again to send it), and
// every byte that extends the part hashed so far is hashed as it passes.
// Bytes read out of order, or read again, are not hashed twice; what a
// sink left unread in order is read by sum.
type digestReaderAt struct {
	r    io.ReaderAt
	size int64

	mu sync.Mutex // reads may come from several goroutines at once
	h  hash.Hash
	n  int64 // bytes hashed: [0, n)
}

func newDigestReaderAt(r io.ReaderAt, size int64) *digestReaderAt {
	return &digestReaderAt{r: r, size: size, h: sha256.New()}
}

func (d *digestReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := d.r.ReadAt(p, off)
	d.mu.Lock()
	defer d.mu.Unlock()
	end := min(off+int64(n), d.size)
	if off <= d.n && end > d.n {
		d.h.Write(p[d.n-off : end-off])
		d.n = end
	}
	return n, err
}

// sum is the SHA-256 of the first size bytes, in lowercase hex. It reads
// what the sink has not read in order; a file that ends sooner is an
// error.
func (d *digestReaderAt) sum() (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.n < d.size {
		n, err := io.Copy(d.h, io.NewSectionReader(d.r, d.n, d.size-d.n))
		d.n += n
		if err != nil {
			return "", fmt.Errorf("hashing the output: %w", err)
		}
		if d.n < d.size {
			return "", fmt.Errorf("hashing the output: it ended after %d of %d bytes: %w", d.n, d.size, io.ErrUnexpectedEOF)
		}
	}
	return hex.EncodeToString(d.h.Sum(nil)), nil
}
