package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	runapi "google.golang.org/api/run/v2"

	"github.com/helios-project/helios-scaffold/generator"
	"github.com/helios-project/helios-scaffold/internal/quota"
	"github.com/helios-project/helios-scaffold/runtime/fanout"
	"github.com/helios-project/helios-scaffold/runtime/fanout/cost"
	"github.com/helios-project/helios-scaffold/runtime/store"
)

// maxJobTasks is the most tasks a Cloud Run execution runs.
const maxJobTasks = 10000

// detachable are the targets whose renders go on without run: --detach
// leaves one, --attach follows it.
var detachable = []string{targetCloudRunJob, targetAWS}

var (
	jobNamePattern       = regexp.MustCompile(`^projects/([^/]+)/locations/([^/]+)/jobs/([^/]+)$`)
	executionNamePattern = regexp.MustCompile(`^(projects/([^/]+)/locations/([^/]+)/jobs/[^/]+)/executions/([^/]+)$`)
	executionIDPattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
)

// resolveJobFlags checks --detach, --attach and the cloudrun-job
// target's flags against the target.
func (p *runPlan) resolveJobFlags() error {
	o := p.o
	following := o.detach || o.attach != ""
	switch {
	case following && !slices.Contains(detachable, p.target):
		return usageError{fmt.Errorf("--detach and --attach are for --target %s, a render that goes on without run; on --target %s the render lives as long as run",
			strings.Join(detachable, " or "), p.target)}
	case o.redrive && (p.target != targetAWS || o.attach == ""):
		return usageError{errors.New("--redrive goes with --target aws --attach ARN: it redrives that execution of the state machine " +
			"(on cloudrun-job, the same command starts an execution of the chunks not done)")}
	case o.detach && o.attach != "":
		return usageError{errors.New("--detach starts a render and --attach follows one: pass one of them")}
	case following && o.collectOnly:
		return usageError{errors.New("--collect-only starts and follows nothing: leave out --detach and --attach")}
	case o.attach != "" && o.tasks != 0:
		return usageError{errors.New("--tasks is for starting an execution; the one --attach follows has its own")}
	}
	if p.target != targetCloudRunJob {
		if o.job != "" || o.tasks != 0 {
			return usageError{errors.New("--job and --tasks are for --target cloudrun-job")}
		}
		return nil
	}
	switch {
	case o.tasks < 0 || o.tasks > maxJobTasks:
		return usageError{fmt.Errorf("--tasks %d: a Cloud Run execution runs 1 to %d tasks", o.tasks, maxJobTasks)}
	case o.concurrency != 0:
		return usageError{errors.New("--concurrency is not for --target cloudrun-job: the job's parallelism (init cloudrun --kind job --parallelism) says how many tasks run at once")}
	case o.url != "" || o.function != "" || o.service != "":
		return usageError{errors.New("--url, --function and --service are not for --target cloudrun-job: --job names the job")}
	}
	return nil
}

// resolveJobName finds the job (--job, else the answers of a --kind job
// project) and the execution that --attach names.
func (p *runPlan) resolveJobName(a *generator.Answers) error {
	p.jobName, p.from["job"] = p.o.job, "--job"
	if m := executionNamePattern.FindStringSubmatch(p.o.attach); m != nil {
		if p.jobName != "" && p.jobName != m[1] {
			return usageError{fmt.Errorf("--attach %s is an execution of %s, not of --job %s", p.o.attach, m[1], p.jobName)}
		}
		p.jobName, p.from["job"], p.execution = m[1], "--attach", p.o.attach
	}
	if p.jobName == "" && a != nil && a.Inputs.IsJob() && a.Inputs.Project != "" {
		p.jobName, p.from["job"] = answeredJob(a.Inputs), ".helios-scaffold.json"
	}
	switch {
	case p.jobName == "":
		return usageError{errors.New("--target cloudrun-job needs --job projects/PROJECT/locations/REGION/jobs/JOB " +
			"(or run inside the repository that init cloudrun --kind job scaffolded, whose answers name it)")}
	case !jobNamePattern.MatchString(p.jobName):
		return usageError{fmt.Errorf("--job %s: want projects/PROJECT/locations/REGION/jobs/JOB", p.jobName)}
	case p.o.attach != "" && p.execution == "" && !executionIDPattern.MatchString(p.o.attach):
		return usageError{fmt.Errorf("--attach %s: want an execution's name, projects/P/locations/R/jobs/J/executions/E, or its id E", p.o.attach)}
	case p.o.attach != "" && p.execution == "":
		p.execution = p.jobName + "/executions/" + p.o.attach
	}
	return nil
}

// answeredJob is the full name of the job that the answers describe.
func answeredJob(in generator.Inputs) string {
	return "projects/" + in.Project + "/locations/" + in.Region + "/jobs/" + in.Name
}

// isAnsweredJob reports whether the answers describe the job run runs.
func (p *runPlan) isAnsweredJob() bool {
	return p.answers != nil && p.answers.Inputs.IsJob() && answeredJob(p.answers.Inputs) == p.jobName
}

// jobTasks is how many tasks an execution over n chunks runs, and why:
// --tasks, else the answers' tasks (job.yaml's taskCount), else one per
// chunk; never more than n, for a task with no chunk would start a
// container for nothing.
func (p *runPlan) jobTasks(n int) (int, string) {
	switch {
	case p.o.tasks > 0:
		return min(p.o.tasks, n), "--tasks"
	case p.isAnsweredJob() && p.answers.Inputs.Tasks > 0:
		return min(p.answers.Inputs.Tasks, n), ".helios-scaffold.json's tasks"
	}
	return min(n, maxJobTasks), "one per chunk"
}

// jobOutputs is the folder the tasks put the outputs in: the spec's
// outputUrl; for an uploaded spec, where it sends them (--output-url,
// a folder of this run below the project's outputUrl, else below
// --upload); for a spec in a bucket, --output-url, else a folder of
// this run below the project's outputUrl; "" when none is known.
func (p *runPlan) jobOutputs() string {
	a := p.answers
	switch {
	case p.job.Spec.OutputURL != "":
		return strings.TrimRight(p.job.Spec.OutputURL, "/")
	case p.upload != "":
		return strings.TrimRight(p.uploadedOutputURL(), "/")
	case p.o.outputURL != "":
		return strings.TrimRight(p.o.outputURL, "/")
	case a != nil && a.Inputs.IsJob() && store.ParseLocation(a.Inputs.OutputURL).Scheme == "gs":
		return strings.TrimRight(a.Inputs.OutputURL, "/") + "/" + p.job.Name() + "-" + strings.TrimPrefix(p.job.Hash, "sha256:")[:8]
	}
	return ""
}

// consoleURL is the Cloud console's page of the execution called name:
// its Tasks tab.
func consoleURL(name string) string {
	m := executionNamePattern.FindStringSubmatch(name)
	if m == nil {
		return ""
	}
	return "https://console.cloud.google.com/run/jobs/executions/details/" + m[3] + "/" + m[4] + "/tasks?project=" + m[2]
}

// shortName is the last part of a resource's full name.
func shortName(name string) string { return name[strings.LastIndex(name, "/")+1:] }

// jobExec is an execution of a Cloud Run job that run starts or
// follows, and what it renders.
type jobExec struct {
	p     *runPlan
	st    *stores
	api   *runapi.Service
	state *fanout.State
	prog  *progress
	rec   *recorder
	att   attachment
	// before are the chunks done before this run; uploaded the bytes it
	// uploaded; sum what it did, once its outputs are collected.
	before   int
	uploaded int64
	sum      *fanout.Summary

	began          time.Time
	stdout, stderr io.Writer

	// job is the job as read before starting it (nil when unread), and
	// sized says that its task size was looked for.
	job   *runapi.GoogleCloudRunV2Job
	sized bool
}

// runCloudRunJob is run on the cloudrun-job target: start an execution
// of the chunks not done (or follow the one --attach names, or the one
// an earlier run left), follow it, collect its outputs and merge; with
// --detach, only start it.
func (p *runPlan) runCloudRunJob(it *interrupts, st *stores, stdout, stderr io.Writer, start time.Time) error {
	folder := p.jobOutputs()
	if folder == "" {
		return usageError{fmt.Errorf("--target cloudrun-job needs to know where the tasks put the outputs of %s: the spec's outputUrl, --output-url, "+
			"or a scaffolded project's --output-url", p.job.Location)}
	}
	for _, dir := range []struct{ flag, path string }{{"--out", p.out}, {"--logs", p.logs}} {
		if err := os.MkdirAll(dir.path, 0o755); err != nil {
			return usageError{fmt.Errorf("creating %s %s: %w", dir.flag, dir.path, err)}
		}
	}
	saved, err := readAttachment(p.attachPath())
	if err != nil {
		return usageError{err}
	}
	if saved != nil && (saved.Spec != p.job.Hash || saved.Execution != "" && !executionNamePattern.MatchString(saved.Execution)) {
		saved = nil // of a spec whose state was removed, or of another target: it starts over
	}
	x := &jobExec{p: p, st: st, rec: newRecorder(), began: start, stdout: stdout, stderr: stderr}
	if saved != nil && saved.Execution == "" && p.execution == "" {
		if saved, err = x.adopt(it.ctx, saved, stderr); err != nil {
			return ran(err)
		}
	}
	switch {
	case p.execution != "" && saved != nil && saved.Execution == p.execution:
		x.att = *saved
	case p.execution != "":
		// Started elsewhere, or its attach file is gone: it renders the
		// whole spec, as a run that started it over every chunk would.
		x.att = attachment{Execution: p.execution, Job: p.jobName, JobPath: p.job.Location, Outputs: folder, Out: p.out,
			Spec: p.job.Hash, Chunks: chunkIDs(p.job), Console: consoleURL(p.execution)}
	case saved != nil:
		x.att = *saved
	}
	if x.att.Execution != "" && x.att.Inputs != nil {
		p.inputs = x.att.Inputs // the files its tasks render, whatever changed here since
	}
	state, err := p.openState(it.ctx, stderr)
	if code := it.exitCode(); err != nil && code != 0 {
		return exitError{code: code, err: fmt.Errorf("interrupted: %w", err)}
	}
	if err != nil {
		return err
	}
	defer state.Close()
	x.state = state
	x.prog = newJobProgress(p.o.progress, stdout, stderr, len(p.job.Spec.Chunks))
	if p.ffprobe == nil && !p.o.noVerify {
		x.prog.line("ffprobe is not on PATH: the outputs are proven by size and SHA-256 only, not checked as video (install ffmpeg, or pass --no-verify)")
	}
	err = ran(x.run(it, folder, saved != nil && p.execution == ""))
	if x.sum == nil {
		x.prog.finish()
	}
	p.ended(it.ctx, x.rec, runTotals{sum: x.sum, uploaded: x.uploaded, wall: time.Since(start), start: start}, err, it.exitCode(), stderr)
	return err
}

// run starts the execution (unless one is followed), and then, unless
// --detach, follows, collects and merges. left says that the execution
// is one an earlier run started and did not collect.
func (x *jobExec) run(it *interrupts, folder string, left bool) error {
	p := x.p
	if x.api == nil {
		var err error
		if x.api, err = p.runAPI(it.ctx); err != nil {
			return err
		}
	}
	x.before = len(x.state.Records())
	switch {
	case left:
		x.prog.line("execution %s, which a run started and did not collect, goes on: following it, as --attach %s would (console: %s)",
			x.att.Execution, shortName(x.att.Execution), x.att.Console)
	case x.att.Execution == "":
		started, err := x.start(it.ctx, folder)
		if err != nil {
			return x.stopped(it, err)
		}
		if !started {
			x.prog.line("every chunk is done (state in %s): no execution to start; collecting and merging", p.state)
			return x.finish(it, nil)
		}
	}
	if p.o.detach {
		x.detached()
		return nil
	}
	final, err := x.follow(it.ctx)
	if err != nil {
		return x.stopped(it, err)
	}
	return x.finish(it, final)
}

// stopped is err, or, when a signal stopped run, what that means: the
// execution, if one started, goes on in the cloud.
func (x *jobExec) stopped(it *interrupts, err error) error {
	code := it.exitCode()
	switch {
	case code != 0 && x.att.Execution != "":
		return exitError{code: code, err: fmt.Errorf("interrupted: execution %s goes on in the cloud; the same command, or --attach %s, "+
			"follows it again and collects its outputs (state in %s)", x.att.Execution, shortName(x.att.Execution), x.p.state)}
	case code != 0:
		return exitError{code: code, err: fmt.Errorf("interrupted before an execution started: %w", err)}
	}
	return err
}

// detached tells where the execution goes on and how to follow it: on
// stdout as lines, or as an event in JSON mode.
func (x *jobExec) detached() {
	a := x.att
	if x.prog.json != nil {
		x.prog.execution(executionEvent{State: "detached", Execution: a.Execution, ConsoleURL: a.Console, Tasks: a.Tasks})
		return
	}
	fmt.Fprintf(x.stdout, "execution: %s\nconsole:   %s\nattach:    helios-scaffold run ... --attach %s (the same arguments, --detach left out)\n",
		a.Execution, a.Console, shortName(a.Execution))
}

// model prices a task's time: the job's vCPU-seconds and GiB-seconds,
// at the prices of jobs (no request fee), of its task's size from the
// answers, else from the job itself, read once.
func (x *jobExec) model(ctx context.Context) (cost.Model, bool) {
	p := x.p
	if p.worker.Platform == cost.CloudRun {
		p.worker.Platform = cost.CloudRunJob // the answers of a --kind job project
	}
	if p.worker.Check() != nil && !x.sized {
		x.sized = true
		if x.job == nil && x.api != nil {
			cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			x.job, _ = x.api.Projects.Locations.Jobs.Get(p.jobName).Context(cctx).Do() // unread, unpriced
			cancel()
		}
		if w, err := quota.JobWorker(x.job); err == nil {
			p.worker = w
		}
	}
	return p.model()
}

// priceNote says how tasks are priced: "" when they are not.
func (x *jobExec) priceNote(ctx context.Context) string {
	m, ok := x.model(ctx)
	if !ok {
		return ""
	}
	return m.Describe() + ", each task from its start to its end, no request fee"
}

// chunkIDs are the ids of job's chunks, in spec order.
func chunkIDs(job *fanout.Job) []int64 {
	ids := make([]int64, 0, len(job.Spec.Chunks))
	for _, c := range job.Spec.Chunks {
		ids = append(ids, c.ID)
	}
	return ids
}
