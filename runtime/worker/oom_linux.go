package worker

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
// worker raises its own for the fork of each chunk's leader, and lowers it
// again once the leader runs.

// chunkOOMScore is the oom_score_adj that chunks start with.
const chunkOOMScore = "1000"

// oomPath is the worker's own setting.
const oomPath = "/proc/self/oom_score_adj"

// forking serialises the chunks' forks while the worker's score is raised.
var forking sync.Mutex

// startVictim starts cmd with oom_score_adj chunkOOMScore; when the
// worker's own cannot be read or raised, cmd starts with the worker's.
func startVictim(cmd *exec.Cmd) error {
	forking.Lock()
	defer forking.Unlock()
	own, err := os.ReadFile(oomPath)
	if err != nil || os.WriteFile(oomPath, []byte(chunkOOMScore), 0) != nil {
		return cmd.Start()
	}
	defer func() { _ = os.WriteFile(oomPath, []byte(strings.TrimSpace(string(own))), 0) }()
	return cmd.Start()
}
