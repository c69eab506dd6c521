package proc

import (
	"os"
	"os/exec"
	"strings"
	"sync"
)

// Under a memory limit (a Lambda function's memory, a Cloud Run
// instance's), the kernel's OOM killer picks the process with the highest
// oom_score_adj, then the largest. A chunk (a browser and an encoder) is
// the one to go, not the worker, which would take every running chunk and
// the answer with it: chunks start with oom_score_adj 1000, the most, and
// everything they start inherits it. The worker keeps its own.
//
// A process may raise its own oom_score_adj, and lower it back to what it
// was, without privileges; the value passes to a child at fork. So the
// worker raises its own while it forks chunks' leaders, and lowers it
// again once no fork is under way. Forks of chunks that start together
// overlap: the first raises the score, the last lowers it, and none
// waits for another.

// chunkOOMScore is the oom_score_adj that chunks start with.
const chunkOOMScore = "1000"

// oomPath is the worker's own setting.
const oomPath = "/proc/self/oom_score_adj"

// raised counts the forks under way with the worker's score raised
// (guarded by raising, which is held only to change it and the score).
var (
	raising sync.Mutex
	raised  int
	// raisedOK reports whether the raise of the forks under way took.
	raisedOK bool
)

// startVictim starts cmd with oom_score_adj chunkOOMScore; when the
// worker's own cannot be read or raised, cmd starts with the worker's.
func startVictim(cmd *exec.Cmd) error {
	own := ownOOMScore()
	if own == nil {
		return cmd.Start()
	}
	raising.Lock()
	if raised == 0 {
		raisedOK = writeOOMScore(chunkOOMScore) == nil
	}
	raised++
	raising.Unlock()
	defer func() {
		raising.Lock()
		if raised--; raised == 0 && raisedOK {
			_ = writeOOMScore(string(own))
		}
		raising.Unlock()
	}()
	return cmd.Start()
}

// ownOOMScore is the worker's oom_score_adj when it first starts a chunk
// (nil when it cannot be read); nothing else in the worker changes it.
var ownOOMScore = sync.OnceValue(func() []byte {
	data, err := os.ReadFile(oomPath)
	if err != nil {
		return nil
	}
	return []byte(strings.TrimSpace(string(data)))
})

// oomFile is the worker's oom_score_adj, open for writing: two writes a
// chunk, no open.
var oomFile = sync.OnceValue(func() *os.File {
	f, _ := os.OpenFile(oomPath, os.O_WRONLY, 0)
	return f
})

func writeOOMScore(v string) error {
	f := oomFile()
	if f == nil {
		return os.ErrNotExist
	}
	_, err := f.WriteAt([]byte(v), 0)
	return err
}
