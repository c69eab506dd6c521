package worker

import (
	"bytes"
	"io"
	"sync"
)

// maxLogLine is the longest line passed through whole; a longer one is
// cut into lines of this size.
const maxLogLine = 64 << 10

// lineWriter passes a chunk's output through to the worker's logs a whole
// line at a time, under a lock shared by every chunk that writes to the
// same log, so that concurrent chunks and the worker's own JSON log lines
// never split each other's lines. Write errors are dropped: the logs are
// best effort and must never cut the capture short.
type lineWriter struct {
	mu  *sync.Mutex
	w   io.Writer
	buf []byte // an unfinished line
}

func (l *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	if i := bytes.LastIndexByte(p, '\n'); i >= 0 {
		if len(l.buf) == 0 {
			l.emit(p[:i+1])
		} else {
			l.buf = append(l.buf, p[:i+1]...)
			l.emit(l.buf)
			l.buf = l.buf[:0]
		}
		p = p[i+1:]
	}
	l.buf = append(l.buf, p...)
	for len(l.buf) >= maxLogLine {
		l.emit(append(l.buf[:maxLogLine:maxLogLine], '\n'))
		l.buf = append(l.buf[:0], l.buf[maxLogLine:]...)
	}
	return n, nil
}

// Close ends an unfinished last line.
func (l *lineWriter) Close() error {
	if len(l.buf) > 0 {
		l.emit(append(l.buf, '\n'))
		l.buf = l.buf[:0]
	}
	return nil
}

func (l *lineWriter) emit(p []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = l.w.Write(p)
}
