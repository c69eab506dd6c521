//go:build unix && !linux

package proc

import "os"

// chunkPipe returns a pipe for one of the chunk's output streams.
func chunkPipe() (r, w *os.File, err error) { return os.Pipe() }
