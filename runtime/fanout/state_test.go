package fanout_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/helios-project/helios-scaffold/runtime/fanout"
)

func TestStateResumes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state")
	s, err := fanout.OpenState(path, "sha256:aa", "job.json")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			if err := s.Add(fanout.Record{Chunk: int64(i), OutputURL: fmt.Sprintf("file:///o/%d", i), Bytes: int64(i)}); err != nil {
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
	s, err = fanout.OpenState(path, "sha256:aa", "job.json")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := len(s.Records()); got != 50 {
		t.Errorf("%d chunks done after reopening, want 50", got)
	}
	if r, ok := s.Done(7); !ok || r.OutputURL != "file:///o/7" || r.Bytes != 7 {
		t.Errorf("Done(7) = %+v, %v", r, ok)
	}
}

// A kill mid-write leaves a torn last line: it is dropped, and the
// records before it, and those added after, are kept.
func TestStateTornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state")
	s, err := fanout.OpenState(path, "sha256:aa", "job.json")
	if err != nil {
		t.Fatal(err)
	}
	s.Add(fanout.Record{Chunk: 1})
	s.Close()
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"chunk":2,"outp`)
	f.Close()
	s, err = fanout.OpenState(path, "sha256:aa", "job.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Done(2); ok {
		t.Error("the torn record counts as done")
	}
	if err := s.Add(fanout.Record{Chunk: 3}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = fanout.OpenState(path, "sha256:aa", "job.json")
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

func TestStateRefused(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, content string
		want          error
		message       string
	}{
		{"another spec", `{"heliosRunState":1,"spec":"sha256:bb","jobPath":"other.json"}` + "\n", fanout.ErrStateMismatch,
			"was written for job spec other.json (sha256:bb); this one is sha256:aa"},
		{"not a state file", "hello\n", fanout.ErrStateCorrupt, "does not start with a helios-scaffold run state header"},
		{"a bad record", `{"heliosRunState":1,"spec":"sha256:aa"}` + "\nnope\n{\"chunk\":1}\n", fanout.ErrStateCorrupt, "line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name)
			os.WriteFile(path, []byte(tt.content), 0o644)
			_, err := fanout.OpenState(path, "sha256:aa", "job.json")
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("OpenState = %v, want %v saying %q", err, tt.want, tt.message)
			}
			if data, _ := os.ReadFile(path); string(data) != tt.content {
				t.Errorf("the refused file changed: %q", data)
			}
		})
	}
}
