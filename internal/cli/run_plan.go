package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/helios-project/helios-scaffold/generator"
	"github.com/helios-project/helios-scaffold/runtime/fanout"
	"github.com/helios-project/helios-scaffold/runtime/fanout/cost"
	"github.com/helios-project/helios-scaffold/runtime/fanout/probe"
	"github.com/helios-project/helios-scaffold/runtime/store"
)

// Targets of run.
const (
	targetLocal       = "local"
	targetAWS         = "aws"
	targetCloudRun    = "cloudrun"
	targetCloudRunJob = "cloudrun-job"
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
	logs    string        // the chunks' captured streams
	timeout time.Duration // of one chunk's call; 0 for none
	conc    int
	// files is the project folder: staged for local chunks, uploaded for
	// remote ones; nil for none.
	files *fanout.FileSet
	// upload is where a local spec and its files go for remote workers
	// ("" when nothing is uploaded); runID names this spec's run there.
	upload string
	runID  string
	// env is added to the environment of local chunks and the merge: the
	// run's mark, node_modules/.bin on PATH.
	env []string
	// function and region are the aws target's.
	function, region string
	answers          *generator.Answers // nil outside a scaffolded project
	from             map[string]string  // where a value came from, for --dry-run
	// service is the cloudrun target's, for the pre-flight ("" unknown).
	service string
	// jobName is the cloudrun-job target's job, projects/P/locations/R/jobs/J,
	// and execution the full name of the one --attach follows.
	jobName, execution string
	// inputs are the project files the state is bound to: hashed from
	// files when the state is opened, unless set before.
	inputs fanout.Inputs
	// worker is what each worker is given, and prices what it costs, for
	// the cost model; worker is zero when unknown.
	worker cost.Worker
	prices cost.Prices
	// unpriced says what the cost leaves out, when it leaves something.
	unpriced string
	// capacity is how many calls the worker takes at once, as the
	// pre-flight read it; 0 when unknown.
	capacity int
	// ffprobe checks outputs as video; nil with --no-verify or without
	// ffprobe on PATH.
	ffprobe *probe.Prober
}

// isLocal reports whether location is a path on this machine.
func isLocal(location string) bool { return store.ParseLocation(location).Local() }

// newRunPlan resolves what run does; every error is the user's input.
func newRunPlan(ctx context.Context, jobArg string, o *runOptions, sources map[string]store.Source) (*runPlan, error) {
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
	if err := p.checkOutputs(); err != nil {
		return nil, err
	}
	if err := p.resolveRemote(answers); err != nil {
		return nil, err
	}
	p.resolveTimeout()
	if err := p.resolveCost(answers); err != nil {
		return nil, err
	}
	if err := p.resolveEnd(); err != nil {
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
			p.target = targetCloudRunJob // run starts an execution of the scaffolded job
		}
	}
	if p.target == "" {
		p.target, p.from["target"] = targetLocal, "default"
	}
	switch p.target {
	case targetLocal, targetAWS, targetCloudRun, targetCloudRunJob:
	default:
		return usageError{fmt.Errorf("--target %q: want local, aws, cloudrun or cloudrun-job", p.target)}
	}
	if err := p.resolveJobFlags(); err != nil {
		return err
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
	if p.o.concurrency < 0 || p.o.retries < 0 || p.o.downloads < 1 || p.o.chunkTimeout < 0 {
		return usageError{errors.New("--concurrency, --retries and --chunk-timeout must not be negative, --download-concurrency at least 1")}
	}
	if h := p.o.hedge; !p.o.noHedge && (h.Factor < 1 || h.Floor < 0 || h.After < 1) {
		return usageError{errors.New("--hedge-factor must be at least 1, --hedge-after at least 1, --hedge-floor not negative")}
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
func (p *runPlan) loadJob(ctx context.Context, arg string, sources map[string]store.Source) error {
	location := arg
	var src store.Source = store.FileSource{}
	if loc := store.ParseLocation(arg); loc.Local() {
		abs, err := filepath.Abs(loc.Key)
		if err != nil {
			return usageError{err}
		}
		location, p.specDir = abs, filepath.Dir(abs)
	} else {
		if src = sources[store.ParseLocation(arg).Scheme]; src == nil {
			return usageError{fmt.Errorf("JOB %s: want a local path or an s3://, gs:// or http(s):// location", arg)}
		}
	}
	job, err := fanout.LoadJob(ctx, location, src)
	if errors.Is(err, fanout.ErrBadSpec) || errors.Is(err, store.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
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
		p.state = filepath.Join(p.out, "."+p.job.FileName()+".helios-run")
	}
	p.state, _ = filepath.Abs(p.state)
	p.logs = p.o.logs
	if p.logs == "" {
		p.logs = p.state + ".logs"
	}
	p.logs, _ = filepath.Abs(p.logs)
}

// checkOutputs refuses a spec whose chunks cannot all be merged or
// collected: when a merge is due, or any chunk names an outputFile,
// every chunk needs one.
func (p *runPlan) checkOutputs() error {
	var without []int64
	for _, c := range p.job.Spec.Chunks {
		if c.OutputFile == "" {
			without = append(without, c.ID)
		}
	}
	merging := p.job.Spec.MergeCommand != "" && !p.o.noMerge
	if len(without) == 0 || len(without) == len(p.job.Spec.Chunks) && !merging {
		return nil
	}
	return usageError{fmt.Errorf("%w: %s: chunks %v have no outputFile, so their work could not be collected or merged",
		fanout.ErrBadSpec, p.job.Location, without)}
}

// Chunk timeouts: the platform's longest call and a minute.
const (
	awsChunkTimeout      = 16 * time.Minute // Lambda's 15 minutes
	cloudRunChunkTimeout = 61 * time.Minute // Cloud Run's 60-minute request timeout
)

// resolveTimeout sets the chunk timeout: --chunk-timeout, else what the
// platform allows a call and a minute; local chunks have the worker's
// own (HELIOS_CHUNK_TIMEOUT).
func (p *runPlan) resolveTimeout() {
	p.timeout = p.o.chunkTimeout
	switch {
	case p.timeout > 0:
	case p.target == targetAWS:
		p.timeout = awsChunkTimeout
	case p.target == targetCloudRun:
		p.timeout = cloudRunChunkTimeout
	}
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
	// The run's own files: states, their locks and logs, the workspaces,
	// what a killed collect left, and the outputs of a local chunk's later
	// attempts that a killed run had not put in place.
	exclude := []string{"/.*.helios-run*", ".*.helios-*.tmp"}
	for _, abs := range append(p.ownFiles(), p.state, p.state+".lock", p.attachPath(), p.job.Location) {
		if rel, err := filepath.Rel(dir, abs); err == nil && filepath.IsLocal(rel) {
			skip[filepath.ToSlash(rel)] = true
			exclude = append(exclude, "/"+fanout.AttemptsGlob(filepath.ToSlash(rel)))
		}
	}
	for _, own := range []string{p.logs, p.workspaceRoot()} {
		if rel, err := filepath.Rel(dir, own); err == nil && filepath.IsLocal(rel) {
			exclude = append(exclude, "/"+filepath.ToSlash(rel)+"/")
		}
	}
	files, err := fanout.SelectFiles(dir, skip, append(exclude, p.o.exclude...))
	if err != nil {
		return usageError{err}
	}
	p.files = files
	return nil
}

// workspaceRoot is where local chunks' workspaces, the staged project
// and the asset cache go.
func (p *runPlan) workspaceRoot() string {
	root := p.o.root
	if root == "" {
		root = filepath.Join(os.TempDir(), "helios-scaffold-run")
	}
	root, _ = filepath.Abs(root)
	return root
}

// ownFiles are the files that the job itself makes, which no chunk
// needs: each chunk's outputFile and every file that the mergeCommand
// names and no chunk's command does (the merged video, whatever the
// merge command: "helios merge out.mp4 ...", "ffmpeg ... out.mp4", a
// list it writes), in --out and in the spec's folder.
func (p *runPlan) ownFiles() []string {
	var names []string
	for _, c := range p.job.Spec.Chunks {
		if c.OutputFile != "" {
			names = append(names, filepath.FromSlash(c.OutputFile))
		}
	}
	used := map[string]bool{}
	for _, c := range p.job.Spec.Chunks {
		for _, w := range fanout.CommandWords(c.Command) {
			used[w] = true
		}
	}
	for _, w := range fanout.CommandWords(p.job.Spec.MergeCommand) {
		if !used[w] && filepath.IsLocal(w) {
			names = append(names, filepath.FromSlash(w))
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
