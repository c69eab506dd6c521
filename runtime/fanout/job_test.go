package fanout_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/helios-project/helios-scaffold/runtime/fanout"
)

// A spec the workers would run other than its author meant is refused
// naming the key; keys that are no near miss are warnings. Real specs
// (what helios render --emit-job writes) pass without either.
func TestParseJobStrict(t *testing.T) {
	const chunk = `{"id":0,"startFrame":0,"frameCount":150,"outputFile":"out_part_0.mp4","command":"helios render composition.html -o out_part_0.mp4 --start-frame 0 --frame-count 150"}`
	tests := []struct {
		name, spec string
		err        string // "" for none
		warning    string
	}{
		{"emitted", `{"metadata":{"totalFrames":150,"fps":30,"width":1280,"height":720,"duration":5},"chunks":[` + chunk + `],"mergeCommand":"helios merge out.mp4 out_part_0.mp4"}`, "", ""},
		{"mergeComand", `{"chunks":[` + chunk + `],"mergeComand":"helios merge out.mp4"}`, `unknown key "mergeComand": did you mean "mergeCommand"?`, ""},
		{"comand", `{"chunks":[{"id":0,"outputFile":"a","comand":"true"}]}`, `chunks[0]: unknown key "comand": did you mean "command"?`, ""},
		{"output", `{"chunks":[{"id":0,"output":"a","command":"true"}]}`, `chunks[0]: unknown key "output": did you mean "outputFile"?`, ""},
		{"startFrme", `{"chunks":[{"id":0,"startFrme":1,"command":"true"}]}`, `did you mean "startFrame"?`, ""},
		{"fsp", `{"metadata":{"fsp":30},"chunks":[]}`, `metadata: unknown key "fsp": did you mean "fps"?`, ""},
		{"no command", `{"chunks":[{"id":0,"outputFile":"a"},{"id":1,"command":"  "}]}`, "chunks[0] has no command; chunks[1] has no command", ""},
		{"unrelated key", `{"chunks":[],"author":"me"}`, "", `the spec: unknown key "author" is passed over`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			job, err := fanout.ParseJob("job.json", []byte(tt.spec))
			if tt.err == "" {
				if err != nil {
					t.Fatalf("ParseJob = %v", err)
				}
				if got := strings.Join(job.Warnings, "\n"); !strings.Contains(got, tt.warning) || tt.warning == "" && got != "" {
					t.Errorf("warnings %q, want %q", got, tt.warning)
				}
				return
			}
			if !errors.Is(err, fanout.ErrBadSpec) || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseJob = %v, want ErrBadSpec saying %q", err, tt.err)
			}
		})
	}
}

// A spec's id names files (the state, the staged spec): it never leaves
// the folder it is joined to.
func TestJobFileName(t *testing.T) {
	for _, tt := range []struct{ location, id, want string }{
		{"/p/job.json", "", "job"},
		{"/p/my job.json", "", "my_job"},
		{"/p/job.json", "/../../x", "_.._.._x"},
		{"/p/job.json", "..", "job"},
		{"/p/job.json", "...hidden", "hidden"},
		{"/p/job.json", "a/b", "a_b"},
		{"/p/job.json", strings.Repeat("x", 300), strings.Repeat("x", 100)},
	} {
		spec := `{"chunks":[]}`
		if tt.id != "" {
			spec = `{"id":` + quote(tt.id) + `,"chunks":[]}`
		}
		job, err := fanout.ParseJob(tt.location, []byte(spec))
		if err != nil {
			t.Fatal(err)
		}
		if got := job.FileName(); got != tt.want {
			t.Errorf("FileName of id %q at %s = %q, want %q", tt.id, tt.location, got, tt.want)
		}
	}
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }
