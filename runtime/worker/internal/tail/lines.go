package tail

import (
	"bytes"
	"io"
	"sync"
)

// maxLogLine is the longest line passed through whole; a longer one is
// cut into lines of this size.
const maxLogLine = 64 << 10

// Lines passes a chunk's output through to the worker's logs a whole
// line at a time, under a lock shared by every chunk that writes to the
// same log, so that concurrent chunks and the worker's own JSON log lines
// never split each other's lines. Runs of whole lines go out in one write.
// Write errors are dropped: the logs are best effort and must never cut the
// capture short.
type Lines struct {
	mu      *sync.Mutex
	w       io.Writer
	buf     []byte // an unfinished line, shorter than maxLogLine
	scratch []byte // a line and its newline, for one write
}

// NewLines returns a Lines that writes whole lines to w under mu, which
// every Lines writing to w shares.
func NewLines(mu *sync.Mutex, w io.Writer) *Lines { return &Lines{mu: mu, w: w} }

func (l *Lines) Write(p []byte) (int, error) {
	n := len(p)
	if len(l.buf) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			l.hold(p)
			return n, nil
		}
		l.buf = append(l.buf, p[:i]...)
		l.emitLong(l.buf)
		l.buf = l.buf[:0]
		p = p[i+1:]
	}
	if j := bytes.LastIndexByte(p, '\n'); j >= 0 {
		l.emitLines(p[:j+1])
		p = p[j+1:]
	}
	l.hold(p)
	return n, nil
}

// emitLines writes whole lines, batching them, and cuts any line longer
// than maxLogLine.
func (l *Lines) emitLines(p []byte) {
	start := 0
	for i := 0; i < len(p); {
		end := bytes.IndexByte(p[i:], '\n') + i
		if end-i > maxLogLine {
			l.emit(p[start:i])
			l.emitLong(p[i:end])
			start = end + 1
		}
		i = end + 1
	}
	l.emit(p[start:])
}

// hold keeps an unfinished line, writing out maxLogLine pieces of it.
func (l *Lines) hold(p []byte) {
	l.buf = append(l.buf, p...)
	if len(l.buf) >= maxLogLine {
		k := len(l.buf) / maxLogLine * maxLogLine
		l.emitLong(l.buf[:k])
		l.buf = append(l.buf[:0], l.buf[k:]...)
	}
}

// emitLong writes line (given without its newline) as lines of at most
// maxLogLine bytes, each in one write, through a scratch buffer that is
// reused so that long output costs no allocation per line.
func (l *Lines) emitLong(line []byte) {
	for {
		piece := line[:min(len(line), maxLogLine)]
		l.scratch = append(append(l.scratch[:0], piece...), '\n')
		l.emit(l.scratch)
		line = line[len(piece):]
		if len(line) == 0 {
			return
		}
	}
}

func (l *Lines) emit(p []byte) {
	if len(p) == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = l.w.Write(p)
}

// Close ends an unfinished last line.
func (l *Lines) Close() error {
	if len(l.buf) > 0 {
		l.emitLong(l.buf)
		l.buf = l.buf[:0]
	}
	return nil
}
