package procfs_test

import (
	"os"
	"os/exec"
	"runtime"
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

// RSS reads a live process's resident size, and 0 for one that is gone.
func TestRSS(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	buf := make([]byte, 64<<20)
	for i := range buf {
		buf[i] = 1
	}
	if rss := procfs.RSS(os.Getpid()); rss < int64(len(buf)) || rss > 1<<40 {
		t.Errorf("RSS of this process, which holds %d bytes: %d", len(buf), rss)
	}
	runtime.KeepAlive(buf)
	if rss := procfs.RSS(1 << 30); rss != 0 {
		t.Errorf("RSS of no process: %d, want 0", rss)
	}
}
