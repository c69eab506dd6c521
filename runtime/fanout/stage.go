package fanout

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/helios-project/helios-scaffold/runtime/internal/fsutil"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// LocalSetup is what [NewLocal] needs to run a job on this machine.
type LocalSetup struct {
	// Config is the worker's; its WorkspaceRoot holds the workspaces, the
	// staged project folder and the asset cache. Its OutputURL is set to
	// Out when a chunk names an outputFile.
	Config worker.Config
	// Out is the folder the outputs land in, at their outputFile paths.
	Out string
	// Files is the project folder to give each chunk, when the spec names
	// no assetsUrl of its own; nil for none.
	Files *FileSet
	// Options are passed on to the worker (a logger, passthrough).
	Options []worker.Option
}

// LocalJob is a job made ready to run with [Local].
type LocalJob struct {
	Target  Local
	JobPath string // the staged spec
	dir     string
}

// Close removes the staged spec and project folder.
func (l *LocalJob) Close() error { return os.RemoveAll(l.dir) }

// NewLocal stages job for local chunks: the project files linked (or
// copied, across file systems) into a folder below the workspace root,
// and beside them the spec with that folder as its assetsUrl and Out as
// its outputUrl, which the worker's chunks then read.
func NewLocal(job *Job, setup LocalSetup) (*LocalJob, error) {
	out, err := filepath.Abs(setup.Out)
	if err != nil {
		return nil, err
	}
	cfg := setup.Config
	if err := os.MkdirAll(cfg.WorkspaceRoot, 0o755); err != nil {
		return nil, fmt.Errorf("creating workspace root: %w", err)
	}
	dir, err := os.MkdirTemp(cfg.WorkspaceRoot, "helios-run.")
	if err != nil {
		return nil, fmt.Errorf("staging job: %w", err)
	}
	l := &LocalJob{dir: dir, JobPath: filepath.Join(dir, job.FileName()+".json")}
	assets := ""
	if setup.Files != nil && job.Spec.AssetsURL == "" {
		assets = "file://" + filepath.Join(dir, "assets")
		if err := stageFiles(setup.Files, filepath.Join(dir, "assets")); err != nil {
			l.Close()
			return nil, err
		}
	}
	output := ""
	if job.hasOutputs() {
		output = "file://" + out
	}
	spec, err := job.WithLocations(assets, output)
	if err == nil {
		err = os.WriteFile(l.JobPath, spec, 0o644)
	}
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("staging job: %w", err)
	}
	cfg.OutputURL = output
	l.Target = Local{Worker: worker.New(cfg, setup.Options...)}
	return l, nil
}

// stageFiles links every file of set into dir, copying where a link
// cannot be made.
func stageFiles(set *FileSet, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("staging the project: %w", err)
	}
	for _, f := range set.Files {
		from := filepath.Join(set.Dir, filepath.FromSlash(f.Rel))
		to := filepath.Join(dir, filepath.FromSlash(f.Rel))
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return fmt.Errorf("staging %s: %w", f.Rel, err)
		}
		err := os.Link(from, to)
		if errors.Is(err, syscall.EXDEV) || errors.Is(err, syscall.EPERM) {
			err = fsutil.CopyFile(from, to)
		}
		if err != nil {
			return fmt.Errorf("staging %s: %w", f.Rel, err)
		}
	}
	return nil
}
