package proc

import (
	"os"
	"syscall"
)

// chunkPipe returns a pipe for one of the chunk's output streams. Its read
// end is in Go's poller, so that closing it unblocks the copier; its write
// end, which only the child keeps, is a plain blocking descriptor:
// os.Pipe would put it in the poller too, and os/exec take it out again,
// a dozen system calls per chunk for nothing.
func chunkPipe() (r, w *os.File, err error) {
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
		return nil, nil, os.NewSyscallError("pipe2", err)
	}
	if err := syscall.SetNonblock(p[0], true); err != nil {
		syscall.Close(p[0])
		syscall.Close(p[1])
		return nil, nil, os.NewSyscallError("setnonblock", err)
	}
	return os.NewFile(uintptr(p[0]), "|0"), os.NewFile(uintptr(p[1]), "|1"), nil
}
