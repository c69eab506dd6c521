package proc

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

// Spec is everything needed to run one chunk command.
type Spec struct {
	Argv           []string // Argv[0] is the executable's path
	Dir            string   // the working directory
	Env            []string
	Stdout, Stderr io.Writer // capture (and passthrough) writers
	// Mark is an entry of Env ("HELIOS_WORKSPACE=/w/helios-...") that no
	// other chunk's environment holds: the processes that carry it after
	// the leader exited, whatever group or session they moved to, are the
	// chunk's and are killed. "" kills the process group alone.
	Mark string
}

// leader is a chunk's process, the leader of its process group, as
// startLeader started it from thread tid.
type leader struct{ pid, tid int }

// Result is how the chunk's process ended.
type Result struct {
	ExitCode int            // 128+n when signal n killed it
	Signal   syscall.Signal // non-zero when killed by a signal
	Err      error          // the process could not start
	// Clean reports that, once the leader ended, the worker had no child
	// but running chunks' leaders: nothing the command started was left,
	// so no process can still use its working directory. False whenever
	// that is not known.
	Clean bool
}

// Run runs the command in a session and process group of its own,
// copying its output to the spec's writers, and kills the whole group
// when ctx is done and again when the leader exits; then it kills what
// carries the spec's Mark and, once no chunk runs, whatever the chunks
// left below the worker (see the package doc), so that nothing the
// command started outlives it.
func Run(ctx context.Context, ps Spec) Result {
	outR, outW, err := chunkPipe()
	if err != nil {
		return Result{Err: err}
	}
	errR, errW, err := chunkPipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return Result{Err: err}
	}
	cmd := exec.Command(ps.Argv[0], ps.Argv[1:]...)
	cmd.Dir = ps.Dir
	cmd.Env = ps.Env
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
		return Result{Err: startErr}
	}

	drained := make(chan struct{}, 2)
	go func() { drain(ps.Stdout, outR); drained <- struct{}{} }()
	go func() { drain(ps.Stderr, errR); drained <- struct{}{} }()

	pgid := cmd.Process.Pid
	stopKill := context.AfterFunc(ctx, func() { killGroup(pgid) })
	waitErr := cmd.Wait()
	forgetLeader(ld)
	stopKill()
	killGroup(pgid)               // whatever the leader left behind in its group
	clean := cleanUp(ld, ps.Mark) // and what left the group

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
	r := exitStatus(cmd, waitErr)
	r.Clean = clean
	return r
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

func exitStatus(cmd *exec.Cmd, waitErr error) Result {
	ps := cmd.ProcessState
	if ps == nil {
		return Result{Err: waitErr}
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return Result{ExitCode: 128 + int(ws.Signal()), Signal: ws.Signal()}
	}
	return Result{ExitCode: ps.ExitCode()}
}
