package tail

import "unicode/utf8"

// Buffer is an io.Writer that keeps the last limit bytes written to it.
// It grows with the data up to limit and then becomes a ring, so a chunk
// that prints little costs little, and one that prints a gigabyte costs
// limit bytes.
type Buffer struct {
	limit int
	buf   []byte
	pos   int  // next write position once the ring is full
	full  bool // buf holds limit bytes, the oldest at pos
	total int64
}

// New returns a Buffer that keeps the last limit bytes.
func New(limit int) *Buffer { return &Buffer{limit: limit} }

func (t *Buffer) Write(p []byte) (int, error) {
	n := len(p)
	t.total += int64(n)
	if !t.full {
		if need := len(t.buf) + len(p); need <= t.limit {
			t.grow(need)
			t.buf = append(t.buf, p...)
			return n, nil
		}
		// Become a ring. The bytes past len(buf) are not data yet, but
		// this write covers them all, since len(buf)+len(p) > limit.
		t.grow(t.limit)
		t.pos = len(t.buf)
		t.buf, t.full = t.buf[:t.limit], true
	}
	if len(p) >= t.limit {
		copy(t.buf, p[len(p)-t.limit:])
		t.pos = 0
		return n, nil
	}
	c := copy(t.buf[t.pos:], p)
	copy(t.buf, p[c:])
	t.pos = (t.pos + len(p)) % t.limit
	return n, nil
}

// grow makes room for need bytes, doubling (append grows large slices by
// only a quarter) and never past limit, so that filling the buffer
// allocates about twice the limit in all.
func (t *Buffer) grow(need int) {
	if need <= cap(t.buf) {
		return
	}
	c := min(t.limit, max(need, 2*cap(t.buf), 4096))
	buf := make([]byte, len(t.buf), c)
	copy(buf, t.buf)
	t.buf = buf
}

// Truncated reports whether bytes were dropped from the front.
func (t *Buffer) Truncated() bool { return t.total > int64(len(t.buf)) }

// Total is the number of bytes written.
func (t *Buffer) Total() int64 { return t.total }

// Bytes returns the kept tail. When the front was cut, it starts at the
// next UTF-8 character boundary, so that no broken character leads it.
func (t *Buffer) Bytes() []byte {
	b := t.buf
	if t.full {
		b = make([]byte, 0, t.limit)
		b = append(b, t.buf[t.pos:]...)
		b = append(b, t.buf[:t.pos]...)
	}
	if t.Truncated() {
		b = trimBrokenRune(b)
	}
	return b
}

// trimBrokenRune drops the continuation bytes of a character whose start
// was cut off.
func trimBrokenRune(b []byte) []byte {
	for i := 0; i < utf8.UTFMax-1 && len(b) > 0 && !utf8.RuneStart(b[0]); i++ {
		b = b[1:]
	}
	return b
}
