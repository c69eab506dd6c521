package worker

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestIdlePoll(t *testing.T) {
	for _, tc := range []struct{ timeout, want time.Duration }{
		{50 * time.Millisecond, idlePollMin},
		{time.Second, 250 * time.Millisecond},
		{20 * time.Second, 5 * time.Second},
		{DefaultChunkIdleTimeout, 5 * time.Second},
		{time.Hour, 5 * time.Second},
	} {
		if got := idlePoll(tc.timeout); got != tc.want {
			t.Errorf("idlePoll(%v) = %v, want %v", tc.timeout, got, tc.want)
		}
	}
}

func TestIdleError(t *testing.T) {
	for _, tc := range []struct {
		timeout time.Duration
		want    string
	}{
		{5 * time.Minute, "chunk 3: no output for 300 s; killed (HELIOS_CHUNK_IDLE_TIMEOUT)"},
		{90500 * time.Millisecond, "chunk 3: no output for 90 s; killed (HELIOS_CHUNK_IDLE_TIMEOUT)"},
		{500 * time.Millisecond, "chunk 3: no output for 0.5 s; killed (HELIOS_CHUNK_IDLE_TIMEOUT)"},
	} {
		err := idleError(3, tc.timeout)
		if err.Error() != tc.want || !errors.Is(err, ErrIdle) || KindOf(err) != KindIdle {
			t.Errorf("idleError(3, %v) = %q (kind %q), want %q, ErrIdle, idle", tc.timeout, err, KindOf(err), tc.want)
		}
	}
}

// The fingerprint changes when a file grows, is written, made or removed,
// and not otherwise; it reads at most its limit of entries.
func TestWorkspaceFingerprint(t *testing.T) {
	root := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("work/a", "1")
	write("tmp/deep/er/b", "22")
	fp := workspaceFingerprint(root, idleMaxEntries)
	if fp.bytes != 3 || fp.entries != 6 || fp.newest == 0 {
		t.Fatalf("fingerprint %+v, want 3 bytes in 6 entries", fp)
	}
	if again := workspaceFingerprint(root, idleMaxEntries); again != fp {
		t.Errorf("nothing changed, yet the fingerprint went from %+v to %+v", fp, again)
	}
	// A later time than any write of the test's: timestamps are coarse.
	later := time.Now().Add(time.Hour)
	for _, change := range []struct {
		name string
		do   func()
	}{
		{"a deep file grows", func() { write("tmp/deep/er/b", "223") }},
		{"a file is rewritten, same size", func() {
			write("work/a", "9")
			_ = os.Chtimes(filepath.Join(root, "work/a"), later, later)
		}},
		{"a file is made", func() { write("work/c", "") }},
		{"a file is removed", func() { _ = os.Remove(filepath.Join(root, "work/c")) }},
	} {
		change.do()
		got := workspaceFingerprint(root, idleMaxEntries)
		if got == fp {
			t.Errorf("%s: fingerprint unchanged, %+v", change.name, got)
		}
		fp = got
	}

	many := t.TempDir()
	for i := range 40 {
		if err := os.WriteFile(filepath.Join(many, fmt.Sprintf("f%02d", i)), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if got := workspaceFingerprint(many, 25); got.entries != 25 || got.bytes != 25 {
		t.Errorf("limit 25: fingerprint %+v, want 25 entries of 1 byte", got)
	}
}
