package fsutil

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// ErrNotRegular is wrapped when a job spec, an asset or an outputFile is
// a FIFO, a socket, a device or a folder: reading one could wait forever
// for a writer, or never end.
var ErrNotRegular = errors.New("not a regular file")

// OpenRegular opens name for reading with open (os.OpenFile, or an
// os.Root's), without waiting for a writer when it is a FIFO, and
// refuses anything but a regular file. Reads of a regular file are not
// changed by O_NONBLOCK.
func OpenRegular(open func(string, int, fs.FileMode) (*os.File, error), name string) (*os.File, fs.FileInfo, error) {
	f, err := open(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	info, err := f.Stat()
	if err == nil && !info.Mode().IsRegular() {
		err = fmt.Errorf("%s is %w (%s)", name, ErrNotRegular, kindOf(info.Mode()))
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, info, nil
}

// kindOf names the type of a file that is not a regular one.
func kindOf(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0, m&fs.ModeCharDevice != 0:
		return "a device"
	case m.IsDir():
		return "a folder"
	}
	return "of type " + m.Type().String()
}
