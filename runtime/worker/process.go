package worker

import (
	"context"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// pipeDrainTimeout bounds how long output is still read after the chunk's
// process group is gone; only a process that left the group (setsid) can
// hold the pipes open past that.
const pipeDrainTimeout = 2 * time.Second

// processSpec is everything needed to run one chunk command.
type processSpec struct {
	argv           []string
	dir            string
	env            []string
	stdout, stderr io.Writer // capture (and passthrough) writers
}

// leader is a chunk's process, the leader of its process group, as
// startLeader started it from thread tid.
type leader struct{ pid, tid int }

// processResult is how the chunk's process ended.
type processResult struct {
	exitCode int
	signal   syscall.Signal // non-zero when killed by a signal
	err      error          // the process could not start
}

// runProcess runs the command in its own process group, copying its output
// to the spec's writers, and kills the whole group when ctx is done and
// again when the leader exits, so that nothing it started outlives it.
func runProcess(ctx context.Context, ps processSpec) processResult {
	outR, outW, err := chunkPipe()
	if err != nil {
		return processResult{err: err}
	}
	errR, errW, err := chunkPipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return processResult{err: err}
	}
	cmd := exec.Command(ps.argv[0], ps.argv[1:]...)
	cmd.Dir = ps.dir
	cmd.Env = ps.env
	cmd.Stdout, cmd.Stderr = outW, errW // *os.File: the child gets them directly
	if null := devNull(); null != nil {
		cmd.Stdin = null
	}
	cmd.SysProcAttr = sysProcAttr()
	ld, startErr := startLeader(cmd)
	outW.Close()
	errW.Close()
	if startErr != nil {
		outR.Close()
		errR.Close()
		return processResult{err: startErr}
	}

	drained := make(chan struct{}, 2)
	go func() { drain(ps.stdout, outR); drained <- struct{}{} }()
	go func() { drain(ps.stderr, errR); drained <- struct{}{} }()

	pgid := cmd.Process.Pid
	stopKill := context.AfterFunc(ctx, func() { killGroup(pgid) })
	waitErr := cmd.Wait()
	forgetLeader(ld)
	stopKill()
	killGroup(pgid)     // whatever the leader left behind in its group
	cleanUp(ld, ps.dir) // and what left the group

	timer := time.NewTimer(pipeDrainTimeout)
	for range 2 {
		select {
		case <-drained:
		case <-timer.C:
			outR.Close() // unblocks the copiers
			errR.Close()
			<-drained
		}
	}
	timer.Stop()
	outR.Close()
	errR.Close()
	return exitStatus(cmd, waitErr)
}

// devNull is the chunk's standard input, /dev/null, opened once: os/exec
// would open and close it for every chunk. nil (os/exec's own) when it
// cannot be opened.
var devNull = sync.OnceValue(func() *os.File {
	f, err := os.Open(os.DevNull)
	if err != nil {
		return nil
	}
	return f
})

// drainBufs holds the copiers' buffers between chunks.
var drainBufs = sync.Pool{New: func() any { return new([32 << 10]byte) }}

// drain copies r to w until EOF or a read error (such as r being closed).
func drain(w io.Writer, r io.Reader) {
	buf := drainBufs.Get().(*[32 << 10]byte)
	defer drainBufs.Put(buf)
	for {
		n, err := r.Read(buf[:])
		if n > 0 {
			w.Write(buf[:n]) //nolint:errcheck // capture writers do not fail
		}
		if err != nil {
			return
		}
	}
}

// killGroup kills every process in the group. ESRCH (the group is already
// empty) is the usual answer after a clean exit, and EPERM can only come
// from a member that changed its uid: neither leaves anything to do.
func killGroup(pgid int) {
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

func exitStatus(cmd *exec.Cmd, waitErr error) processResult {
	ps := cmd.ProcessState
	if ps == nil {
		return processResult{err: waitErr}
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return processResult{exitCode: 128 + int(ws.Signal()), signal: ws.Signal()}
	}
	return processResult{exitCode: ps.ExitCode()}
}
