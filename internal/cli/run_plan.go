package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/helios-project/helios-scaffold/generator"
	"github.com/helios-project/helios-scaffold/runtime/fanout"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// Targets of run.
const (
	targetLocal    = "local"
	targetAWS      = "aws"
	targetCloudRun = "cloudrun"
)

// runPlan is what run does, resolved from the flags, the project's
// answers file and the spec.
type runPlan struct {
	o       *runOptions
	target  string
	job     *fanout.Job
	specDir string // the local spec's folder; "" for a remote spec
	out     string
	state   string
	conc    int
	// files is the project folder: staged for local chunks, uploaded for
	// remote ones; nil for none.
	files *fanout.FileSet
	// upload is where a local spec and its files go for remote workers
	// ("" when nothing is uploaded); runID names this spec's run there.
	upload string
	runID  string
	// function and region are the aws target's.
	function, region string
	answers          *generator.Answers // nil outside a scaffolded project
	from             map[string]string  // where a value came from, for --dry-run
}

// isLocal reports whether location is a path on this machine.
func isLocal(location string) bool {
	return !strings.Contains(location, "://") || strings.HasPrefix(location, "file://")
}

// newRunPlan resolves what run does; every error is the user's input.
func newRunPlan(ctx context.Context, jobArg string, o *runOptions, sources map[string]worker.Source) (*runPlan, error) {
	p := &runPlan{o: o, from: map[string]string{}}
	answers, err := projectAnswers()
	if err != nil {
		return nil, err
	}
	if err := p.resolveTarget(answers); err != nil {
		return nil, err
	}
	if err := p.loadJob(ctx, jobArg, sources); err != nil {
		return nil, err
	}
	p.resolveOut()
	if err := p.resolveRemote(answers); err != nil {
		return nil, err
	}
	return p, p.selectFiles()
}

// projectAnswers reads the answers file of the scaffolded project around
// the current folder, if there is one.
func projectAnswers() (*generator.Answers, error) {
	root, err := generator.FindRoot(".")
	if err != nil {
		return nil, nil // not in a scaffolded project
	}
	a, err := generator.ReadAnswers(root)
	if err != nil {
		return nil, usageError{fmt.Errorf("reading the project's answers: %w", err)}
	}
	return a, nil
}

func (p *runPlan) resolveTarget(a *generator.Answers) error {
	p.target, p.from["target"] = p.o.target, "--target"
	if p.target == "" && a != nil {
		p.target, p.from["target"] = string(a.Inputs.Target), ".helios-scaffold.json"
		if a.Inputs.IsJob() {
			p.target = targetLocal // a Cloud Run job's tasks are started by gcloud
		}
	}
	if p.target == "" {
		p.target, p.from["target"] = targetLocal, "default"
	}
	switch p.target {
	case targetLocal, targetAWS, targetCloudRun:
	default:
		return usageError{fmt.Errorf("--target %q: want local, aws or cloudrun", p.target)}
	}
	p.conc = p.o.concurrency
	switch {
	case p.conc > 0:
	case p.target == targetAWS:
		p.conc = defaultAWSConcurrency
	case p.target == targetCloudRun:
		p.conc = defaultCloudRunConcurrency
	default:
		p.conc = min(maxLocalConcurrency, runtime.NumCPU())
	}
	if p.o.concurrency < 0 || p.o.retries < 0 || p.o.downloads < 1 {
		return usageError{errors.New("--concurrency and --retries must not be negative, --download-concurrency at least 1")}
	}
	switch p.o.progress {
	case "auto", "bar", "json", "none":
	default:
		return usageError{fmt.Errorf("--progress %q: want auto, bar, json or none", p.o.progress)}
	}
	return nil
}

// loadJob reads and checks the spec: a local path, or a location that one
// of sources reads.
func (p *runPlan) loadJob(ctx context.Context, arg string, sources map[string]worker.Source) error {
	location := arg
	var src worker.Source = worker.FileSource{}
	if isLocal(arg) {
		abs, err := filepath.Abs(strings.TrimPrefix(arg, "file://"))
		if err != nil {
			return usageError{err}
		}
		location, p.specDir = abs, filepath.Dir(abs)
	} else {
		scheme, _, _ := strings.Cut(arg, "://")
		if src = sources[scheme]; src == nil {
			return usageError{fmt.Errorf("JOB %s: want a local path or an s3://, gs:// or http(s):// location", arg)}
		}
	}
	job, err := fanout.LoadJob(ctx, location, src)
	if errors.Is(err, fanout.ErrBadSpec) || errors.Is(err, worker.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
		return usageError{err}
	}
	if err != nil {
		return err
	}
	p.job = job
	return nil
}

func (p *runPlan) resolveOut() {
	switch {
	case p.o.out != "":
		p.out, p.from["out"] = p.o.out, "--out"
	case p.specDir != "":
		p.out, p.from["out"] = p.specDir, "the spec's folder"
	default:
		p.out, p.from["out"] = "helios-out", "default"
	}
	p.out, _ = filepath.Abs(p.out)
	p.state = p.o.state
	if p.state == "" {
		p.state = filepath.Join(p.out, "."+p.job.Name()+".helios-run")
	}
	p.state, _ = filepath.Abs(p.state)
}

// selectFiles picks the project folder's files for local chunks or the
// upload: the spec's assetsUrl when it is a local folder, else --assets,
// else the spec's folder; none when the spec's assets are remote.
func (p *runPlan) selectFiles() error {
	dir := p.o.assets
	if a := p.job.Spec.AssetsURL; a != "" && isLocal(a) {
		dir = strings.TrimPrefix(a, "file://")
		if !filepath.IsAbs(dir) && p.specDir != "" {
			dir = filepath.Join(p.specDir, dir)
		}
	} else if a != "" {
		return nil
	}
	if dir == "" {
		dir = p.specDir
	}
	if dir == "" || p.target != targetLocal && p.upload == "" {
		return nil
	}
	dir, _ = filepath.Abs(dir)
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		return usageError{fmt.Errorf("project folder %s: not a folder", dir)}
	}
	skip := map[string]bool{}
	for _, abs := range append(p.ownFiles(), p.state, p.job.Location) {
		if rel, err := filepath.Rel(dir, abs); err == nil && filepath.IsLocal(rel) {
			skip[filepath.ToSlash(rel)] = true
		}
	}
	files, err := fanout.SelectFiles(dir, skip, append([]string{"/.*.helios-run"}, p.o.exclude...))
	if err != nil {
		return usageError{err}
	}
	p.files = files
	return nil
}

// ownFiles are the files that the job itself makes, which no chunk
// needs: each chunk's outputFile and the merged video (the argument after
// "merge" in a mergeCommand such as "helios merge out.mp4 out_part_0.mp4
// ..."), in --out and in the spec's folder.
func (p *runPlan) ownFiles() []string {
	var names []string
	for _, c := range p.job.Spec.Chunks {
		if c.OutputFile != "" {
			names = append(names, filepath.FromSlash(c.OutputFile))
		}
	}
	if argv, err := worker.SplitCommand(p.job.Spec.MergeCommand); err == nil {
		if i := slices.Index(argv, "merge"); i >= 0 && i+1 < len(argv) && filepath.IsLocal(argv[i+1]) {
			names = append(names, argv[i+1])
		}
	}
	var paths []string
	for _, dir := range []string{p.out, p.specDir} {
		for _, n := range names {
			if dir != "" {
				paths = append(paths, filepath.Join(dir, n))
			}
		}
	}
	return paths
}
