package fanout

import (
	"context"
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/store"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// Local is a [Target] that runs each chunk with the worker core in this
// process, as a deployed worker would: a fresh workspace below the
// worker's WorkspaceRoot, the assets of the spec's assetsUrl, the output
// put at its outputUrl (a file:// folder puts it on this machine).
type Local struct {
	Worker *worker.Worker
}

// Call implements [Target]; it answers with the status a deployed worker
// would give.
func (l Local) Call(ctx context.Context, req jobspec.Request) (*worker.CallResult, error) {
	return CallResultOf(l.Worker.Run(ctx, req)), nil
}

// CallResultOf is the answer that a deployed worker gives for r: its
// status ([worker.Result.Status], as both platforms give it), exit code,
// streams, upload and, for a failure, its message and kind.
func CallResultOf(r *worker.Result) *worker.CallResult {
	c := &worker.CallResult{StatusCode: r.Status(), Stdout: string(r.Stdout), Stderr: string(r.Stderr),
		OutputURL: r.OutputURL, OutputBytes: r.OutputBytes, OutputSHA256: r.OutputSHA256}
	if r.Started {
		c.HasExitCode, c.ExitCode = true, r.ExitCode
	}
	if !r.OK() {
		c.Message, c.ErrorKind = r.Message(), string(r.Kind())
	}
	return c
}

// A Placer is a [Target] whose outputs land where the run reads them
// ([Local]): the Runner has it move the winning attempt's output to the
// chunk's own name, once every other attempt of the chunk has ended.
type Placer interface {
	Place(c *jobspec.Chunk, res *worker.CallResult, attempts int) error
}

// Place implements [Placer]: an attempt after the first wrote its output
// under its own name ([jobspec.AttemptName]) in a local folder; Place
// renames it to the outputFile's own name, records that in res, and
// removes what the chunk's other attempts, 2 to attempts, left. Outputs
// put in a bucket stay as they are.
func (l Local) Place(c *jobspec.Chunk, res *worker.CallResult, attempts int) error {
	if c.OutputFile == "" || res.OutputURL == "" || !store.ParseLocation(res.OutputURL).Local() {
		return nil // a bucket's attempts keep their names: the run collects the winner's
	}
	rel := path.Clean(c.OutputFile)
	won, folder := -1, ""
	for n := 1; n <= attempts; n++ {
		if f, ok := strings.CutSuffix(res.OutputURL, "/"+jobspec.AttemptName(rel, n)); ok {
			won, folder = n, f
			break
		}
	}
	if won < 0 {
		return fmt.Errorf("placing the output of chunk %d: %s is not where an attempt of it writes", c.ID, res.OutputURL)
	}
	local := strings.TrimPrefix(folder, "file://")
	for n := 2; n <= attempts; n++ {
		name := local + "/" + jobspec.AttemptName(rel, n)
		var err error
		if n == won {
			err = os.Rename(name, local+"/"+rel)
		} else {
			err = os.Remove(name)
		}
		if err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("placing the output of chunk %d: %w", c.ID, err)
		}
	}
	res.OutputURL = folder + "/" + rel
	return nil
}
