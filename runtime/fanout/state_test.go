package fanout_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/fanout"
)

// stateJob is a job of n chunks, chunk i writing out_part_i.txt.
func stateJob(t *testing.T, n int) *fanout.Job {
	t.Helper()
	return writeJob(t, t.TempDir(), n, func(i int) string { return "true" })
}

func record(i int) fanout.Record {
	return fanout.Record{Chunk: int64(i), OutputURL: fmt.Sprintf("file:///o/out_part_%d.txt", i), Bytes: int64(i),
		SHA256: strings.Repeat("ab", 32)}
}

func TestStateResumes(t *testing.T) {
	job := stateJob(t, 50)
	path := filepath.Join(t.TempDir(), "state")
	s, err := fanout.OpenState(t.Context(), path, job, fanout.StateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			if err := s.Add(record(i)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	s.Close()
	data, _ := os.ReadFile(path)
	if n := strings.Count(string(data), "\n"); n != 51 {
		t.Errorf("%d lines, want a header and 50 records:\n%s", n, data)
	}
	s, err = fanout.OpenState(t.Context(), path, job, fanout.StateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := len(s.Records()); got != 50 || s.Restarted != "" {
		t.Errorf("%d chunks done after reopening (restarted: %q), want 50", got, s.Restarted)
	}
	if r, ok := s.Done(7); !ok || r != record(7) {
		t.Errorf("Done(7) = %+v, %v", r, ok)
	}
	s.Forget(7)
	if _, ok := s.Done(7); ok {
		t.Error("Done(7) after Forget(7)")
	}
}

// A kill mid-write leaves a torn last line: it is dropped, and the
// records before it, and those added after, are kept.
func TestStateTornLine(t *testing.T) {
	job := stateJob(t, 4)
	path := filepath.Join(t.TempDir(), "state")
	s, err := fanout.OpenState(t.Context(), path, job, fanout.StateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.Add(record(1))
	s.Close()
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"chunk":2,"outp`)
	f.Close()
	s, err = fanout.OpenState(t.Context(), path, job, fanout.StateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Done(2); ok {
		t.Error("the torn record counts as done")
	}
	if err := s.Add(record(3)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = fanout.OpenState(t.Context(), path, job, fanout.StateOptions{})
	if err != nil {
		t.Fatalf("after a torn line and an append: %v", err)
	}
	defer s.Close()
	_, ok1 := s.Done(1)
	_, ok3 := s.Done(3)
	if !ok1 || !ok3 || len(s.Records()) != 2 {
		t.Errorf("records %v, want chunks 1 and 3", s.Records())
	}
}

// What is not a state file of this job is refused and left as it is;
// a record that no finished chunk leaves is corrupt, not done.
func TestStateRefused(t *testing.T) {
	job := stateJob(t, 2)
	dir := t.TempDir()
	head := fmt.Sprintf(`{"heliosRunState":2,"spec":%q}`, job.Hash) + "\n"
	good := `{"chunk":0,"outputUrl":"file:///o/out_part_0.txt","bytes":3}` + "\n"
	tests := []struct {
		name, content string
		want          error
		message       string
	}{
		{"another spec", `{"heliosRunState":2,"spec":"sha256:bb","jobPath":"other.json"}` + "\n", fanout.ErrStateMismatch,
			"was written for job spec other.json (sha256:bb)"},
		{"notes", "hello\n", fanout.ErrNotStateFile, "does not start with a helios-scaffold run state header"},
		{"no newline", "my notes", fanout.ErrNotStateFile, "pass another --state"},
		{"a spec", `{"chunks":[]}`, fanout.ErrNotStateFile, "does not start with"},
		{"a bad record", head + "nope\n" + good, fanout.ErrStateCorrupt, "line 2"},
		{"an empty record", head + good + "{}\n", fanout.ErrStateCorrupt, "line 3: a record names no chunk"},
		{"no output", head + `{"chunk":1}` + "\n", fanout.ErrStateCorrupt, "chunk 1 writes out_part_1.txt, but its record has no outputUrl and bytes"},
		{"no bytes", head + `{"chunk":1,"outputUrl":"s3://b/o"}` + "\n", fanout.ErrStateCorrupt, "no outputUrl and bytes"},
		{"another chunk", head + `{"chunk":9,"outputUrl":"s3://b/o","bytes":1}` + "\n", fanout.ErrStateCorrupt, "chunk 9 is not in the spec"},
		{"a bad sha", head + `{"chunk":1,"outputUrl":"s3://b/o","bytes":1,"sha256":"xyz"}` + "\n", fanout.ErrStateCorrupt, "is not a SHA-256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name)
			os.WriteFile(path, []byte(tt.content), 0o644)
			s, err := fanout.OpenState(t.Context(), path, job, fanout.StateOptions{})
			if err == nil {
				s.Close()
			}
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("OpenState = %v, want %v saying %q", err, tt.want, tt.message)
			}
			if data, _ := os.ReadFile(path); string(data) != tt.content {
				t.Errorf("the refused file changed: %q", data)
			}
		})
	}
}

// A FIFO, a device or a folder is refused at once: opening a FIFO must
// not wait for a writer.
func TestStateNotAFile(t *testing.T) {
	job := stateJob(t, 1)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ path, kind string }{{fifo, "FIFO"}, {"/dev/null", "device"}, {dir, "folder"}} {
		done := make(chan error, 1)
		go func() {
			s, err := fanout.OpenState(t.Context(), tt.path, job, fanout.StateOptions{})
			if err == nil {
				s.Close()
			}
			done <- err
		}()
		select {
		case err := <-done:
			if !errors.Is(err, fanout.ErrNotStateFile) || !strings.Contains(err.Error(), tt.kind) {
				t.Errorf("OpenState(%s) = %v, want ErrNotStateFile naming a %s", tt.path, err, tt.kind)
			}
		case <-time.After(testdeadline.Remaining(t)):
			t.Fatalf("OpenState(%s) hangs", tt.path)
		}
	}
}

// One run holds a state file at a time: a second open fails at once
// naming the first (pid and since when), or waits for it with Wait.
func TestStateLocked(t *testing.T) {
	job := stateJob(t, 1)
	path := filepath.Join(t.TempDir(), "state")
	first, err := fanout.OpenState(t.Context(), path, job, fanout.StateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = fanout.OpenState(t.Context(), path, job, fanout.StateOptions{})
	if !errors.Is(err, fanout.ErrLocked) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d, running since", os.Getpid())) {
		t.Fatalf("second OpenState = %v, want ErrLocked naming pid %d", err, os.Getpid())
	}
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if _, err := fanout.OpenState(ctx, path, job, fanout.StateOptions{Wait: true}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting OpenState with a deadline = %v, want the deadline", err)
	}
	got := make(chan error, 1)
	go func() {
		s, err := fanout.OpenState(testdeadline.Context(t), path, job, fanout.StateOptions{Wait: true})
		if err == nil {
			s.Close()
		}
		got <- err
	}()
	first.Add(record(0))
	first.Close()
	if err := <-got; err != nil {
		t.Fatalf("waiting OpenState after the first closed: %v", err)
	}
}

// The state binds the project files: other inputs start it over, and
// say which file changed; a version 1 state is started over too.
func TestStateInputsChanged(t *testing.T) {
	job := stateJob(t, 2)
	path := filepath.Join(t.TempDir(), "state")
	in := fanout.Inputs{"index.html": "6 sha256:aa", "logo.svg": "5 sha256:bb"}
	s, err := fanout.OpenState(t.Context(), path, job, fanout.StateOptions{Inputs: in})
	if err != nil {
		t.Fatal(err)
	}
	s.Add(record(0))
	s.Close()
	reopen := func(in fanout.Inputs) *fanout.State {
		t.Helper()
		s, err := fanout.OpenState(t.Context(), path, job, fanout.StateOptions{Inputs: in})
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		return s
	}
	if s := reopen(in); s.Restarted != "" || len(s.Records()) != 1 {
		t.Fatalf("same inputs: restarted %q, %d records", s.Restarted, len(s.Records()))
	}
	now := fanout.Inputs{"index.html": "6 sha256:cc", "logo.svg": "5 sha256:bb", "font.woff": "1 sha256:dd"}
	s = reopen(now)
	if !strings.Contains(s.Restarted, "font.woff added, index.html changed") || len(s.Records()) != 0 {
		t.Fatalf("changed inputs: restarted %q, %d records", s.Restarted, len(s.Records()))
	}
	os.WriteFile(path, fmt.Appendf(nil, `{"heliosRunState":1,"spec":%q}`+"\n"+`{"chunk":0}`+"\n", job.Hash), 0o644)
	if s := reopen(now); !strings.Contains(s.Restarted, "earlier helios-scaffold") || len(s.Records()) != 0 {
		t.Fatalf("version 1: restarted %q, %d records", s.Restarted, len(s.Records()))
	}
}
