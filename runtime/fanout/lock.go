package fanout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/helios-project/helios-scaffold/internal/procfs"
)

// ErrLocked is a state file that another run holds.
var ErrLocked = errors.New("another run holds the state file")

// lockPoll is how often a waiting run tries the lock again.
const lockPoll = 200 * time.Millisecond

// leftoverWait bounds the wait for a killed run's leftovers to be gone.
const leftoverWait = 5 * time.Second

// EnvRun marks everything a run starts (local chunks and what they
// start, the merge): HELIOS_RUN_STATE=STATE, the state file's path. A
// run that was killed cannot stop them; the next run on the same state
// finds them by it and kills them before it starts anything.
const EnvRun = "HELIOS_RUN_STATE"

// runLock is a run's hold on a state file: an advisory lock (flock) on
// the file beside it named STATE.lock, which says who holds it. The lock
// file stays when the run ends (removing it would let a run waiting on
// the old file and one creating a new one both hold "the" lock); the
// lock itself goes with the run's process, however it ends.
type runLock struct {
	f      *os.File
	killed int // leftovers of a killed run
}

// lockHolder is what a lock file says.
type lockHolder struct {
	PID   int       `json:"pid"`
	Host  string    `json:"host,omitempty"`
	Since time.Time `json:"since"`
}

// lockRun takes the lock of the state file at path, failing at once
// with ErrLocked when another run holds it, or waiting until ctx ends.
func lockRun(ctx context.Context, path string, wait bool) (*runLock, error) {
	name := path + ".lock"
	f, err := openRegular(name)
	if err != nil {
		return nil, fmt.Errorf("locking state file: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			break
		}
		if !wait {
			f.Close()
			return nil, fmt.Errorf("%w %s: %s; wait for it to end (or pass --wait)", ErrLocked, path, holderOf(name))
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for the run that holds %s: %w", path, context.Cause(ctx))
		case <-time.After(lockPoll):
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("locking state file %s: %w", path, err)
	}
	// No run holds the file now: what carries its mark was started by one
	// that was killed (SIGKILL, an OOM kill) and outlived it.
	killed := procfs.Kill(EnvRun+"="+path, leftoverWait)
	host, _ := os.Hostname()
	me, _ := json.Marshal(lockHolder{PID: os.Getpid(), Host: host, Since: time.Now().UTC().Truncate(time.Second)})
	if err := f.Truncate(0); err == nil {
		f.Write(append(me, '\n')) // who holds it is for messages only
	}
	return &runLock{f: f, killed: killed}, nil
}

// holderOf says who holds the lock file name, as far as it tells.
func holderOf(name string) string {
	data, err := os.ReadFile(name)
	var h lockHolder
	if err != nil || json.Unmarshal(data, &h) != nil || h.PID == 0 {
		return "a run that has not said who it is yet"
	}
	who := fmt.Sprintf("pid %d", h.PID)
	if host, _ := os.Hostname(); h.Host != "" && h.Host != host {
		who += " on " + h.Host
	}
	return fmt.Sprintf("%s, running since %s", who, h.Since.Local().Format(time.DateTime))
}

// release gives the lock up.
func (l *runLock) release() {
	if l != nil && l.f != nil {
		l.f.Close()
		l.f = nil
	}
}

// A Lock is a hold on a state file without opening the state: what a
// run that renders elsewhere takes (one that follows a Step Functions
// execution and downloads its video into the state's folder), so that no
// other run on that state writes there beside it. Like OpenState's, it
// kills what a killed run on the state left running.
type Lock struct {
	l *runLock
}

// LockState takes the lock of the state file at path, failing at once
// with ErrLocked when another run holds it, or, with wait, waiting until
// ctx ends. Release gives it up; it goes with the process anyway.
func LockState(ctx context.Context, path string, wait bool) (*Lock, error) {
	l, err := lockRun(ctx, path, wait)
	if err != nil {
		return nil, err
	}
	return &Lock{l: l}, nil
}

// Killed is how many processes a killed run on the state had left
// running, which LockState killed.
func (l *Lock) Killed() int { return l.l.killed }

// Release gives the lock up.
func (l *Lock) Release() { l.l.release() }
