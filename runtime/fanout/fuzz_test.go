package fanout_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/helios-project/helios-scaffold/runtime/fanout"
)

// FuzzParseJob: a spec from anywhere never panics the parser, and one it
// accepts names files (the state, the staged spec) that stay in the
// folder they are joined to.
func FuzzParseJob(f *testing.F) {
	f.Add([]byte(`{"chunks":[{"id":0,"outputFile":"a.mp4","command":"true"}],"mergeCommand":"cat a.mp4"}`))
	f.Add([]byte(`{"id":"/../../x","chunks":[]}`))
	f.Add([]byte(`{"chunks":[{"id":0,"comand":"true"}],"mergeComand":"x","metadata":{"fsp":1}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		job, err := fanout.ParseJob("/p/job.json", data)
		if err != nil {
			return
		}
		name := job.FileName()
		if name == "" || strings.ContainsAny(name, "/\x00") || strings.HasPrefix(name, ".") || len(name) > 100 {
			t.Errorf("FileName %q of id %q", name, job.Spec.ID)
		}
	})
}

// FuzzOpenState: whatever a state file holds, OpenState does not panic,
// and a file it refuses is left byte for byte as it was.
func FuzzOpenState(f *testing.F) {
	job := writeJobF(f)
	head := fmt.Sprintf(`{"heliosRunState":2,"spec":%q}`, job.Hash) + "\n"
	f.Add([]byte(head + `{"chunk":0,"outputUrl":"file:///o/out_part_0.txt","bytes":3}` + "\n"))
	f.Add([]byte(head + "{}\n"))
	f.Add([]byte(head + `{"chunk":1,"outp`))
	f.Add([]byte("notes"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "state")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := fanout.OpenState(t.Context(), path, job, fanout.StateOptions{})
		if err == nil {
			s.Close()
			return
		}
		if errors.Is(err, fanout.ErrNotStateFile) || errors.Is(err, fanout.ErrStateMismatch) || errors.Is(err, fanout.ErrStateCorrupt) {
			if got, _ := os.ReadFile(path); !bytes.Equal(got, data) {
				t.Errorf("refused (%v), and changed from %q to %q", err, data, got)
			}
		}
	})
}

// writeJobF is writeJob for a fuzz target: a job of two chunks.
func writeJobF(f *testing.F) *fanout.Job {
	dir := f.TempDir()
	data := []byte(`{"chunks":[{"id":0,"outputFile":"out_part_0.txt","command":"true"},{"id":1,"outputFile":"out_part_1.txt","command":"true"}]}`)
	path := filepath.Join(dir, "job.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		f.Fatal(err)
	}
	job, err := fanout.ParseJob(path, data)
	if err != nil {
		f.Fatal(err)
	}
	return job
}
