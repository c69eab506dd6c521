package lambdatest

import (
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/testdeadline"
)

func TestLogBufferKeepsHeadAndTail(t *testing.T) {
	var b logBuffer
	b.Write([]byte("INIT REPORT(durationMs: 12.5)\n"))
	chunk := []byte(strings.Repeat("x", 1<<20))
	for range 12 { // 12 MiB: past the head, and the tail trims
		b.Write(chunk)
	}
	b.Write([]byte("\nlast line\n"))
	s := b.String()
	if !strings.HasPrefix(s, "INIT REPORT") || !strings.HasSuffix(s, "last line\n") || !strings.Contains(s, "bytes dropped") {
		t.Errorf("head %q, tail %q", s[:40], s[len(s)-40:])
	}
	if len(s) > headLimit+2*tailLimit+100 || b.Len() != int64(12<<20+41) {
		t.Errorf("kept %d bytes of %d", len(s), b.Len())
	}
	r := b.report(100, 100)
	if len(r) > 100+100+2*maxReportLine || !strings.Contains(r, "[...]") {
		t.Errorf("report of %d bytes: %q", len(r), r)
	}
	e := &Emulator{out: &b}
	if d, err := e.InitDuration(time.Second); err != nil || d != 12500*time.Microsecond {
		t.Errorf("InitDuration = %v, %v", d, err)
	}
}

func TestProcesses(t *testing.T) {
	if _, err := exec.LookPath("sleep"); err != nil {
		t.Skip(err)
	}
	const arg = "2997.31" // unusual, and hours: it cannot end on its own while WaitNoProcess waits
	cmd := exec.Command("sh", "-c", "sleep "+arg+"; :")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	var pids []int
	for deadline := time.Now().Add(testdeadline.Remaining(t)); len(pids) == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		pids = ProcessesWithArgs("sleep", arg)
	}
	if len(pids) != 1 {
		t.Fatalf("ProcessesWithArgs found %v", pids)
	}
	if d := Descendants(cmd.Process.Pid); !slices.Contains(d, pids[0]) {
		t.Errorf("Descendants(%d) = %v, want %d among them", cmd.Process.Pid, d, pids[0])
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	cmd.Wait()
	if left := WaitNoProcess(testdeadline.Remaining(t), "sleep", arg); len(left) > 0 {
		t.Errorf("still running: %v", left)
	}
}
