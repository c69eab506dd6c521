package cloudrun_test

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// The Cloud Run binary answers a chunk only once what the chunk started
// is gone, however it escaped: a new session with an empty environment,
// or a double fork that closed its standard streams.
func TestBinaryLeavesNoProcess(t *testing.T) {
	t.Parallel()
	p := startWorker(t)
	for _, tc := range []struct{ name, arg, command string }{
		{"setsid -f env -i", "311", `sh -c 'setsid -f env -i sleep 311; ` + untilArg("311") + `'`},
		{"double fork, stdio closed", "312", `sh -c '(setsid sh -c "sleep 312 </dev/null >/dev/null 2>&1 &" &); ` + untilArg("312") + `'`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Cleanup(func() {
				for _, pid := range withArg(tc.arg) {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			})
			a := <-postAsync(t, p.addr, payload(specFile(t, t.TempDir(), tc.command), 0))
			if a.err != nil {
				t.Fatal(a.err)
			}
			a.check(t, http.StatusOK, "")
			if pids := withArg(tc.arg); len(pids) != 0 {
				t.Errorf("sleep %s still running once the chunk was answered: pids %v", tc.arg, pids)
			}
		})
	}
}

// untilArg is a shell loop that waits, up to 10 s, for a process with the
// argument arg (the bracket keeps grep from finding itself).
func untilArg(arg string) string {
	re := arg[:len(arg)-1] + "[" + arg[len(arg)-1:] + "]"
	return `for i in $(seq 1000); do grep -qsxz "` + re + `" /proc/[0-9]*/cmdline && break; sleep 0.01; done`
}

// withArg lists the live processes that have the argument arg.
func withArg(arg string) []int {
	paths, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var pids []int
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil || !bytes.Contains(data, []byte("\x00"+arg+"\x00")) {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		pids = append(pids, pid)
	}
	return pids
}
