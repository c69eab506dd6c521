package procfs_test

import (
	"os/exec"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/procfs"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
)

// A process found by its environment, and the group it leads, are
// killed; one whose entry differs only in its value is not.
func TestKill(t *testing.T) {
	start := func(entry string) *exec.Cmd {
		cmd := exec.Command("sh", "-c", "sleep 3600 & sleep 3600; wait")
		cmd.Env = []string{"PATH=/usr/bin:/bin", entry}
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() })
		return cmd
	}
	mine := start("HELIOS_TEST_MARK=" + t.Name())
	other := start("HELIOS_TEST_MARK=" + t.Name() + "x")
	// The shell and its two sleeps carry the entry.
	deadline := time.Now().Add(testdeadline.Remaining(t))
	for len(procfs.WithEntry("HELIOS_TEST_MARK="+t.Name())) < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	found := procfs.WithEntry("HELIOS_TEST_MARK=" + t.Name())
	if len(found) != 3 || !slices.Contains(found, mine.Process.Pid) || slices.Contains(found, other.Process.Pid) {
		t.Fatalf("WithEntry = %v, want the shell %d and its two sleeps, not %d", found, mine.Process.Pid, other.Process.Pid)
	}
	if n := procfs.Kill("HELIOS_TEST_MARK="+t.Name(), testdeadline.Remaining(t)); n != 3 {
		t.Errorf("Kill found %d, want 3", n)
	}
	mine.Wait()
	for _, pid := range found {
		if procfs.Running(pid) {
			t.Errorf("pid %d still runs", pid)
		}
	}
	if !procfs.Running(other.Process.Pid) {
		t.Error("the process with another value was killed")
	}
}
