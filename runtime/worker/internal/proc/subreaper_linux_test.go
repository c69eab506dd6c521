package proc

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/procfs"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
)

// subreaperOrSkip makes the test process a subreaper, as a worker's first
// chunk does, or skips when this kernel cannot list children.
func subreaperOrSkip(t *testing.T) {
	t.Helper()
	procs.once.Do(becomeSubreaper)
	if !procs.subreaper {
		t.Skip("no child subreaper here (no /proc/PID/task/TID/children)")
	}
}

// envWorkspace is the variable whose entry marks a chunk's processes.
const envWorkspace = "HELIOS_WORKSPACE"

func markerFor(dir string) []byte { return []byte(envWorkspace + "=" + dir + "\x00") }

// waitState waits until pid is in state (Z for a zombie), or gone when
// state is 0.
func waitState(t *testing.T, pid int, state byte) {
	t.Helper()
	for deadline := time.Now().Add(testdeadline.Remaining(t)); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		st, ok := procfs.StatOf(pid)
		if (state == 0 && !ok) || (ok && st.State == state) {
			return
		}
	}
	t.Fatalf("pid %d did not reach state %q", pid, state)
}

// adopt runs `sh -c script` with env added, in a process group of its own
// as a chunk runs, and waits for the shell: what it started in the
// background is then the test process's, as a chunk's leftovers are the
// worker's. The script prints the pid to watch.
func adopt(t *testing.T, script string, env ...string) int {
	t.Helper()
	cmd := exec.Command("sh", "-c", script)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = sysProcAttr()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", script, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("%s printed %q", script, out)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		var ws syscall.WaitStatus
		_, _ = syscall.Wait4(pid, &ws, 0, nil)
	})
	waitParent(t, pid)
	return pid
}

// waitParent waits until pid is the test process's child.
func waitParent(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(testdeadline.Remaining(t)); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if st, ok := procfs.StatOf(pid); ok && st.PPID == os.Getpid() {
			return
		}
	}
	t.Fatalf("pid %d was not re-parented to the test process", pid)
}

// marked reports whether a child of pid carries marker.
func marked(pid int, marker []byte) bool {
	kids, _ := procfs.Children(pid)
	for _, k := range kids {
		if env, _ := procfs.Read(nil, "/proc/"+strconv.Itoa(k)+"/environ"); hasEntry(env, marker) {
			return true
		}
	}
	return false
}

// waitExec waits until pid runs the program named comm.
func waitExec(t *testing.T, pid int, comm string) {
	t.Helper()
	for deadline := time.Now().Add(testdeadline.Remaining(t)); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm"); strings.TrimSpace(string(b)) == comm {
			return
		}
	}
	t.Fatalf("pid %d never ran %s", pid, comm)
}

// With nothing left below the worker but the chunks' leaders, strays
// finds nothing, and the sweep over every process is skipped.
func TestStraysNothingLeft(t *testing.T) {
	subreaperOrSkip(t)
	dir := t.TempDir()
	cmd := exec.Command("sh", "-c", "true")
	cmd.Env = append(os.Environ(), envWorkspace+"="+dir)
	cmd.SysProcAttr = sysProcAttr()
	l, err := startLeader(cmd)
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	forgetLeader(l)
	if strays(markerFor(dir), l.tid) {
		t.Error("strays = true after a chunk that left nothing")
	}
}

// A process that left the chunk (a session of its own) and outlived its
// parent is found by its environment; another chunk's is not.
func TestStraysFindsAdoptedProcess(t *testing.T) {
	subreaperOrSkip(t)
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("no setsid:", err)
	}
	dir := t.TempDir()
	pid := adopt(t, `setsid sleep 31 </dev/null >/dev/null 2>&1 & echo $!`, envWorkspace+"="+dir)
	waitExec(t, pid, "sleep")
	if !strays(markerFor(dir), 0) {
		t.Error("strays = false with an adopted process of the chunk running")
	}
	if strays(markerFor(filepath.Join(dir, "other")), 0) {
		t.Error("strays = true for another chunk's workspace")
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	waitState(t, pid, 'Z')
	if strays(markerFor(dir), 0) {
		t.Error("strays = true with the adopted process dead")
	}
	waitState(t, pid, 0) // reaped
}

// The chunk's process may sit below one that is not marked (its
// environment was cleared): strays looks down the whole tree.
func TestStraysBelowUnmarkedProcess(t *testing.T) {
	subreaperOrSkip(t)
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("no setsid:", err)
	}
	dir := t.TempDir()
	pid := adopt(t, `setsid env -i HOME=/ sh -c 'env `+envWorkspace+`="$0" sleep 32 & wait' "$`+envWorkspace+`" </dev/null >/dev/null 2>&1 & echo $!`,
		envWorkspace+"="+dir)
	for deadline := time.Now().Add(testdeadline.Remaining(t)); !marked(pid, markerFor(dir)); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the unmarked shell started no marked process")
		}
	}
	if !strays(markerFor(dir), 0) {
		t.Error("strays = false with the chunk's process below an unmarked one")
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL) // its session's group
	waitState(t, pid, 'Z')
	// strays reaps the shell once the marked sleep below it is gone too:
	// until then it stops at the sleep, which a loaded machine may take a
	// while to finish killing.
	for deadline := time.Now().Add(testdeadline.Remaining(t)); ; time.Sleep(5 * time.Millisecond) {
		strays(markerFor(dir), 0)
		if _, ok := procfs.StatOf(pid); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("strays did not reap pid %d", pid)
		}
	}
}

// A process whose environment reads empty may be in the middle of an exec
// (the kernel shows no environment then), and carry the chunk's workspace
// a moment later: strays cannot tell, and the sweep looks again.
func TestStraysEmptyEnvironment(t *testing.T) {
	subreaperOrSkip(t)
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("no setsid:", err)
	}
	pid := adopt(t, `setsid env -i sleep 34 </dev/null >/dev/null 2>&1 & echo $!`)
	waitExec(t, pid, "sleep")
	if !strays(markerFor(t.TempDir()), 0) {
		t.Error("strays = false with an adopted process whose environment is empty")
	}
}

// strays reaps the zombies that the worker adopted, but neither a chunk's
// leader (os/exec waits for it) nor a child in the worker's own process
// group (the program that embeds the worker waits for it).
func TestStraysReaps(t *testing.T) {
	subreaperOrSkip(t)
	dir := t.TempDir()
	leader := exec.Command("true")
	leader.SysProcAttr = sysProcAttr()
	l, err := startLeader(leader)
	if err != nil {
		t.Fatal(err)
	}
	own := exec.Command("true")
	if err := own.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("no setsid:", err)
	}
	orphan := adopt(t, `setsid sleep 0.1 </dev/null >/dev/null 2>&1 & echo $!`)
	waitState(t, orphan, 'Z')
	waitState(t, leader.Process.Pid, 'Z')
	waitState(t, own.Process.Pid, 'Z')

	if strays(markerFor(dir), l.tid) {
		t.Error("strays = true with only zombies left")
	}
	if _, ok := procfs.StatOf(orphan); ok {
		t.Error("the adopted zombie was not reaped")
	}
	if err := leader.Wait(); err != nil {
		t.Errorf("waiting for the leader: %v", err)
	}
	forgetLeader(l)
	if err := own.Wait(); err != nil {
		t.Errorf("waiting for the test's own child: %v", err)
	}
}

// TestCloneParentHelper is the leader of TestStraysCloneParent when run
// with HELIOS_TEST_CLONE_PARENT set: it starts sleep as its own sibling
// (CLONE_PARENT), in a session of its own, prints its pid and exits.
func TestCloneParentHelper(t *testing.T) {
	if os.Getenv("HELIOS_TEST_CLONE_PARENT") == "" {
		t.Skip("helper of TestStraysCloneParent")
	}
	cmd := exec.Command("sleep", "33")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_PARENT, Setsid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString(strconv.Itoa(cmd.Process.Pid) + "\n")
	os.Exit(0)
}

// A process that the leader starts with CLONE_PARENT is a child of the
// worker's thread that forked the leader, not an adopted one: strays
// finds it there.
func TestStraysCloneParent(t *testing.T) {
	subreaperOrSkip(t)
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCloneParentHelper$")
	cmd.Env = append(os.Environ(), "HELIOS_TEST_CLONE_PARENT=1", envWorkspace+"="+dir)
	var out strings.Builder
	cmd.Stdout = &out
	cmd.SysProcAttr = sysProcAttr()
	// Fork from a thread other than the main one, which adopts orphans:
	// a goroutine locked to the main thread leaves a new one another.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var l leader
	var err error
	if syscall.Gettid() == os.Getpid() {
		done := make(chan struct{})
		go func() { l, err = startLeader(cmd); close(done) }()
		<-done
	} else {
		l, err = startLeader(cmd)
	}
	if err != nil {
		t.Fatal(err)
	}
	if l.tid == os.Getpid() {
		t.Fatal("the leader was forked from the main thread")
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper: %v\n%s", err, out.String())
	}
	forgetLeader(l)
	pid, err := strconv.Atoi(strings.TrimSpace(out.String()))
	if err != nil {
		t.Fatalf("helper printed %q", out.String())
	}
	t.Cleanup(func() {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		var ws syscall.WaitStatus
		_, _ = syscall.Wait4(pid, &ws, 0, nil)
	})
	waitParent(t, pid)
	for deadline := time.Now().Add(testdeadline.Remaining(t)); ; time.Sleep(5 * time.Millisecond) {
		if env, _ := procfs.Read(nil, "/proc/"+strconv.Itoa(pid)+"/environ"); hasEntry(env, markerFor(dir)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the sibling never carried the marker")
		}
	}
	if !strays(markerFor(dir), l.tid) {
		t.Errorf("strays = false with the leader's sibling running (forked from thread %d of %d)", l.tid, os.Getpid())
	}
}
