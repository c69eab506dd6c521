package transfer

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"sync"
	"testing"
)

// countingReaderAt counts the bytes read through it.
type countingReaderAt struct {
	r  io.ReaderAt
	mu sync.Mutex
	n  int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.mu.Lock()
	c.n += int64(n)
	c.mu.Unlock()
	return n, err
}

// The digest is the SHA-256 of the first size bytes however a sink reads
// them, and it reads nothing itself when the sink read them in order.
func TestDigestReaderAt(t *testing.T) {
	data := make([]byte, 100_000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	const part = 16 << 10
	parts := func(order []int) func(io.ReaderAt) {
		return func(r io.ReaderAt) {
			for _, i := range order {
				buf := make([]byte, part)
				r.ReadAt(buf, int64(i*part))
			}
		}
	}
	tests := []struct {
		name      string
		size      int64 // of data, hashed
		read      func(io.ReaderAt)
		extraRead int64 // bytes sum must read itself
	}{
		{"in order, a part at a time", 100_000, parts([]int{0, 1, 2, 3, 4, 5, 6}), 0},
		{"once as a stream", 100_000, func(r io.ReaderAt) { io.Copy(io.Discard, io.NewSectionReader(r, 0, 100_000)) }, 0},
		{"twice (a checksum, then the upload)", 100_000, func(r io.ReaderAt) {
			io.Copy(io.Discard, io.NewSectionReader(r, 0, 100_000))
			io.Copy(io.Discard, io.NewSectionReader(r, 0, 100_000))
		}, 0},
		{"out of order: what follows a gap is read again", 100_000, parts([]int{1, 0, 3, 2, 6, 5, 4}), 100_000 - part},
		{"the last parts first", 100_000, parts([]int{5, 6, 0}), 100_000 - part},
		{"overlapping reads", 100_000, func(r io.ReaderAt) {
			buf := make([]byte, 30_000)
			for _, off := range []int64{0, 10_000, 25_000, 50_000, 70_000} {
				r.ReadAt(buf, off)
			}
		}, 0},
		{"nothing read", 100_000, func(io.ReaderAt) {}, 100_000},
		{"past the size", 1000, func(r io.ReaderAt) { r.ReadAt(make([]byte, 5000), 0) }, 0},
		{"empty", 0, func(r io.ReaderAt) { r.ReadAt(make([]byte, 10), 0) }, 0},
		{"concurrent parts", 100_000, func(r io.ReaderAt) {
			var wg sync.WaitGroup
			for i := range 7 {
				wg.Go(func() { parts([]int{i})(r) })
			}
			wg.Wait()
		}, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := &countingReaderAt{r: bytes.NewReader(data)}
			d := newDigestReaderAt(file, tc.size)
			tc.read(d)
			before := file.n
			got, err := d.sum()
			want := sha256.Sum256(data[:tc.size])
			if err != nil || got != hex.EncodeToString(want[:]) {
				t.Fatalf("sum = %s, %v; want %x", got, err, want)
			}
			if extra := file.n - before; tc.extraRead >= 0 && extra != tc.extraRead {
				t.Errorf("sum read %d bytes itself, want %d", extra, tc.extraRead)
			}
		})
	}
}

// A file that is shorter than the size taken is an error, not the hash
// of what there is.
func TestDigestReaderAtShortFile(t *testing.T) {
	d := newDigestReaderAt(bytes.NewReader([]byte("short")), 10)
	d.ReadAt(make([]byte, 10), 0)
	if got, err := d.sum(); err == nil {
		t.Errorf("sum = %s, want an error for a file of 5 bytes taken as 10", got)
	}
}
