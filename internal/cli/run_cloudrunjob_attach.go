package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/fanout"
	"github.com/helios-project/helios-scaffold/runtime/store"
)

// attachment is what following an execution needs, which the attach
// file beside the state holds from the execution's start until its
// outputs are collected: a run killed while it follows, or one that
// --detach left, is followed again from it. Each detachable target
// writes its own kind of execution (a Cloud Run execution's full name,
// a Step Functions execution's ARN).
type attachment struct {
	Execution string `json:"execution"` // its full name
	Job       string `json:"job"`
	// JobPath is the spec its tasks read (HELIOS_JOB_PATH), Outputs the
	// folder they put the outputs in (HELIOS_OUTPUT_URL).
	JobPath string `json:"jobPath"`
	Outputs string `json:"outputs"`
	Out     string `json:"out"`
	// Spec is the hash of the whole job's spec, Chunks the ids of those
	// the execution renders, in the order of the spec its tasks read
	// (task i of Tasks renders positions i, i+Tasks, ...).
	Spec   string  `json:"spec"`
	Chunks []int64 `json:"chunks"`
	Tasks  int64   `json:"tasks"`
	// Inputs are the project files as uploaded for it: the state is bound
	// to them when its outputs are recorded.
	Inputs fanout.Inputs `json:"inputs,omitempty"`
	// Stale are the outputs of its chunks that were in the folder before
	// it started (from another execution, of other files), by location,
	// with their versions then: one still at that version was not
	// written by it.
	Stale   map[string]string `json:"stale,omitempty"`
	Console string            `json:"console"`
	Started time.Time         `json:"started"`
	// Token is the start's token (envStartToken): with no Execution, the
	// file of a run killed while it started one.
	Token string `json:"token,omitempty"`
}

// attachPath is the attach file: beside the state.
func (p *runPlan) attachPath() string { return p.state + ".attach" }

// readAttachment reads the attach file at path: nil when there is none.
func readAttachment(path string) (*attachment, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the attach file: %w", err)
	}
	var a attachment
	if err := json.Unmarshal(data, &a); err != nil || a.Execution == "" && a.Token == "" {
		return nil, fmt.Errorf("%s is not an attach file that run wrote (%v): remove it, and follow the execution with --attach", path, err)
	}
	return &a, nil
}

// writeAttachment writes a to path: beside it first, then renamed into
// place, so that a kill leaves the old file or the new one.
func writeAttachment(path string, a attachment) error {
	data, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return fmt.Errorf("writing the attach file: %w", err)
	}
	tmp, err := store.CreateTempBeside(path)
	if err != nil {
		return fmt.Errorf("writing the attach file: %w", err)
	}
	defer os.Remove(tmp.Name()) // gone once renamed
	_, err = tmp.Write(append(data, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("writing the attach file: %w", err)
	}
	return nil
}

// removeAttachment removes the attach file at path if it names
// execution.
func removeAttachment(path, execution string) {
	if a, err := readAttachment(path); err == nil && a != nil && a.Execution == execution {
		os.Remove(path)
	}
}

// chunksOfTask are the chunks that task i of count renders: the ids at
// positions i, i+count, ... of chunks (as the task mode picks them).
func chunksOfTask(chunks []int64, i, count int) []int64 {
	var ids []int64
	for pos := i; count > 0 && pos < len(chunks); pos += count {
		ids = append(ids, chunks[pos])
	}
	return ids
}

// printJob is --dry-run's part of the cloudrun-job target: the job, the
// execution it would start or follow, and where its tasks put outputs.
func (p *runPlan) printJob(w io.Writer, from string) {
	fmt.Fprintf(w, "job:         %s%s\n", p.jobName, from)
	switch {
	case p.execution != "":
		fmt.Fprintf(w, "execution:   %s, followed (every %v) until it completes, then collected\n", p.execution, executionPoll)
	default:
		tasks, why := p.jobTasks(len(p.job.Spec.Chunks))
		then := fmt.Sprintf("followed (every %v) until it completes, then collected", executionPoll)
		if p.o.detach {
			then = "left to run (--detach); --attach follows it"
		}
		fmt.Fprintf(w, "execution:   of the chunks not done (jobs.run), %d tasks for all %d (%s), %s\n", tasks, len(p.job.Spec.Chunks), why, then)
	}
	if p.upload == "" { // else said with the upload
		fmt.Fprintf(w, "outputs:     put by the tasks in %s\n", orDefault(p.jobOutputs(), "unknown: pass --output-url"))
	}
}
