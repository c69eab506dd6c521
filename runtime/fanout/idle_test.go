package fanout

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// The local target answers an idle chunk as a deployed worker does, with
// its kind, which the runner takes for a failure that may pass.
func TestLocalIdleIsTransient(t *testing.T) {
	t.Run("CallResultOf", func(t *testing.T) {
		r := &worker.Result{Started: true, ExitCode: -1, Stdout: []byte("started\n"), Stderr: []byte("loading\n"),
			Err: fmt.Errorf("chunk 3: %w for 300 s; killed", worker.ErrIdle)}
		c := CallResultOf(r)
		if c.StatusCode != 500 || c.ErrorKind != string(worker.KindIdle) || !c.HasExitCode || c.ExitCode != -1 ||
			c.Stderr != "loading\n" || c.Message != r.Err.Error() {
			t.Errorf("CallResultOf = %+v", *c)
		}
		if got, why := classify(t.Context(), c, nil); got != transient {
			t.Errorf("classify = %v (%s), want transient", got, why)
		}
	})
	t.Run("Local", func(t *testing.T) {
		cfg := worker.DefaultConfig()
		cfg.WorkspaceRoot = t.TempDir()
		cfg.ChunkIdleTimeout = time.Second
		w := worker.New(cfg, worker.WithPassthrough(io.Discard, io.Discard), worker.WithLogger(slog.New(slog.DiscardHandler)))
		data, _ := json.Marshal(jobspec.Spec{ID: "idle", Chunks: []jobspec.Chunk{
			{ID: 0, OutputFile: "out.txt", Command: `sh -c 'echo started; sleep 3327.23'`}}})
		path := filepath.Join(t.TempDir(), "idle.json")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		// Within the test's deadline: a watch that failed ends as a
		// cancellation, not a hang.
		c, err := Local{Worker: w}.Call(testdeadline.Context(t), jobspec.Request{JobPath: path})
		if err != nil || c.StatusCode != 500 || c.ErrorKind != string(worker.KindIdle) || c.Stdout != "started\n" || c.Message == "" {
			t.Fatalf("Call = %+v, %v: want a 500 of kind idle", c, err)
		}
		if got, why := classify(t.Context(), c, nil); got != transient {
			t.Errorf("classify = %v (%s), want transient", got, why)
		}
	})
}
