package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"google.golang.org/api/googleapi"
	runapi "google.golang.org/api/run/v2"

	"github.com/helios-project/helios-scaffold/runtime/cloudrun"
	"github.com/helios-project/helios-scaffold/runtime/fanout"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// start finds the chunks not done, puts the spec of those where the
// tasks read it (uploading the project with it), and starts an
// execution of the job over them, with their spec and the outputs
// folder as overrides; it reports false, starting nothing, when every
// chunk is done.
func (x *jobExec) start(ctx context.Context, folder string) (bool, error) {
	p := x.p
	job, err := x.readJob(ctx)
	if err != nil {
		return false, err
	}
	x.job = job
	if err := p.forgetUnproven(ctx, x.st, x.state, x.prog); err != nil {
		return false, err
	}
	records := x.state.Records()
	x.before = len(records)
	var todo []int64
	for _, c := range p.job.Spec.Chunks {
		if _, done := records[c.ID]; done {
			x.event(fanout.Event{Time: time.Now(), Kind: fanout.EventSkipped, Chunk: c.ID})
		} else {
			todo = append(todo, c.ID)
		}
	}
	if len(todo) == 0 {
		return false, nil
	}
	jobPath, spec, err := p.specOf(todo)
	if err != nil {
		return false, err
	}
	if err := checkAllowed(job, jobPath); err != nil {
		return false, err
	}
	if err := x.upload(ctx, jobPath, spec, len(todo) == len(p.job.Spec.Chunks)); err != nil {
		return false, err
	}
	stale, err := x.listed(ctx, folder, todo)
	if err != nil {
		return false, err
	}
	tasks, why := p.jobTasks(len(todo))
	x.prog.line("starting an execution of %s: %d tasks (%s) for %d chunks%s", p.jobName, tasks, why, len(todo), jobShape(job))
	token := newStartToken()
	req := &runapi.GoogleCloudRunV2RunJobRequest{Overrides: &runapi.GoogleCloudRunV2Overrides{TaskCount: int64(tasks),
		ContainerOverrides: []*runapi.GoogleCloudRunV2ContainerOverride{{Env: []*runapi.GoogleCloudRunV2EnvVar{
			{Name: cloudrun.EnvJobPath, Value: jobPath}, {Name: worker.EnvOutputURL, Value: folder}, {Name: envStartToken, Value: token}}}}}}
	// A kill during the call does not lose the execution it starts: the
	// attach file holds the start's token, which finds it (adopt), and a
	// signal lets the call end and its name be written before run stops.
	x.att = attachment{Job: p.jobName, JobPath: jobPath, Outputs: folder, Out: p.out, Spec: p.job.Hash,
		Chunks: todo, Tasks: int64(tasks), Inputs: p.inputs, Stale: stale, Token: token}
	if err := writeAttachment(p.attachPath(), x.att); err != nil {
		return false, fmt.Errorf("starting an execution of %s: %w", p.jobName, err)
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	op, err := x.api.Projects.Locations.Jobs.Run(p.jobName, req).Context(rctx).Do()
	if gerr, ok := errors.AsType[*googleapi.Error](err); ok && gerr.Code/100 == 4 {
		os.Remove(p.attachPath()) // refused: nothing started
	}
	if err != nil {
		return false, fmt.Errorf("starting an execution of %s: %w", p.jobName, explainAPI(err, "run.jobs.run and run.jobs.runWithOverrides", p.jobName))
	}
	var ex runapi.GoogleCloudRunV2Execution
	if err := json.Unmarshal(op.Metadata, &ex); err != nil || !executionNamePattern.MatchString(ex.Name) {
		return false, fmt.Errorf("starting an execution of %s: the Admin API's operation %s names no execution", p.jobName, op.Name)
	}
	x.att.Execution, x.att.Console, x.att.Started = ex.Name, consoleURL(ex.Name), time.Now().UTC()
	x.prog.execution(executionEvent{State: "started", Execution: ex.Name, ConsoleURL: x.att.Console, Tasks: int64(tasks)})
	if err := writeAttachment(p.attachPath(), x.att); err != nil {
		return true, fmt.Errorf("execution %s started, but %w: follow it with --attach %s", ex.Name, err, shortName(ex.Name))
	}
	return true, nil
}

// readJob reads the job, to check it before starting it. A job that is
// not there is an error; one that cannot be read is said, and nil.
func (x *jobExec) readJob(ctx context.Context) (*runapi.GoogleCloudRunV2Job, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	job, err := x.api.Projects.Locations.Jobs.Get(x.p.jobName).Context(ctx).Do()
	var gerr *googleapi.Error
	switch {
	case err == nil:
		return job, nil
	case errors.As(err, &gerr) && gerr.Code == http.StatusNotFound:
		return nil, fmt.Errorf("the Cloud Run job %s is not there: deploy it first (gcloud run jobs replace job.yaml, as init printed): %w", x.p.jobName, err)
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		return nil, err
	}
	x.prog.line("could not read the job %s (%v): starting it without checking where its tasks may read", x.p.jobName, explainAPI(err, "run.jobs.get", x.p.jobName))
	return nil, nil
}

// jobShape says how the job runs its tasks, when known.
func jobShape(job *runapi.GoogleCloudRunV2Job) string {
	if job == nil || job.Template == nil || job.Template.Template == nil {
		return ""
	}
	at := "as many at once as Cloud Run allows"
	if n := job.Template.Parallelism; n > 0 {
		at = fmt.Sprintf("%d at a time", n)
	}
	return fmt.Sprintf(", %s, each retried up to %s", at, counted(int(job.Template.Template.MaxRetries), "time"))
}

// checkAllowed refuses a spec location that the job's tasks would refuse
// (HELIOS_ALLOWED_JOB_PATHS in its container's env): every task would
// exit 2.
func checkAllowed(job *runapi.GoogleCloudRunV2Job, jobPath string) error {
	if job == nil || job.Template == nil || job.Template.Template == nil || len(job.Template.Template.Containers) == 0 {
		return nil
	}
	for _, e := range job.Template.Template.Containers[0].Env {
		if e.Name != worker.EnvAllowedJobPaths || e.Value == "" {
			continue
		}
		cfg := worker.Config{AllowedJobPaths: strings.Split(e.Value, ",")}
		if err := cfg.CheckJobPath(jobPath); err != nil {
			return fmt.Errorf("the job's tasks read specs only below %s=%s, and the spec would be at %s: "+
				"pass an --upload below it (in a scaffolded project, the default is), or give the job that bucket (init cloudrun --job-bucket): %w",
				worker.EnvAllowedJobPaths, e.Value, jobPath, err)
		}
	}
	return nil
}

// specOf is where the spec of the chunks todo goes, and its bytes: the
// uploaded spec (at UPLOAD/jobs/RUN.json, or, for some of its chunks,
// RUN.rest-HASH.json), or a spec in a bucket as it is (nil bytes), or,
// for some of its chunks, the spec of those beside it.
func (p *runPlan) specOf(todo []int64) (string, []byte, error) {
	whole := len(todo) == len(p.job.Spec.Chunks)
	var data []byte
	var err error
	if p.upload == "" {
		if whole {
			return p.job.Location, nil, nil
		}
		data, err = onlyChunks(p.job.Raw, todo)
		return strings.TrimSuffix(p.job.Location, ".json") + ".rest-" + digest8(data) + ".json", data, err
	}
	assets := ""
	if p.files != nil {
		assets = p.upload + "/assets"
	}
	if data, err = p.job.WithLocations(assets, p.uploadedOutputURL()); err != nil || whole {
		return p.upload + "/jobs/" + p.runID + ".json", data, err
	}
	data, err = onlyChunks(data, todo)
	return p.upload + "/jobs/" + p.runID + ".rest-" + digest8(data) + ".json", data, err
}

// upload puts the project and the spec where the tasks read them: an
// uploaded spec as every remote target does (with the project), then the
// spec of the chunks left when it is not the whole one.
func (x *jobExec) upload(ctx context.Context, jobPath string, spec []byte, whole bool) error {
	p := x.p
	if p.upload != "" {
		_, sent, err := p.uploadJob(ctx, x.st, x.prog)
		x.uploaded += sent
		if err != nil || whole {
			return err
		}
	}
	if spec == nil {
		return nil
	}
	b, err := x.st.bucket(jobPath)
	if err != nil {
		return err
	}
	x.prog.line("the chunks not done are in their own spec, %s", jobPath)
	sent, err := fanout.PutIfChanged(ctx, b, jobPath, spec)
	x.uploaded += sent
	if err != nil {
		return fmt.Errorf("uploading the job spec to %s: %w", jobPath, err)
	}
	return nil
}

// onlyChunks is the spec raw with only the chunks of ids, every other
// field as it is.
func onlyChunks(raw []byte, ids []int64) ([]byte, error) {
	var doc map[string]json.RawMessage
	var chunks []json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("writing the spec of the chunks left: %w", err)
	}
	if err := json.Unmarshal(doc["chunks"], &chunks); err != nil {
		return nil, fmt.Errorf("writing the spec of the chunks left: %w", err)
	}
	keep := map[int64]bool{}
	for _, id := range ids {
		keep[id] = true
	}
	kept := []json.RawMessage{}
	for _, c := range chunks {
		var head struct {
			ID int64 `json:"id"`
		}
		if json.Unmarshal(c, &head) == nil && keep[head.ID] {
			kept = append(kept, c)
		}
	}
	doc["chunks"], _ = json.Marshal(kept)
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("writing the spec of the chunks left: %w", err)
	}
	return append(out, '\n'), nil
}

// digest8 is the start of data's SHA-256, in hex.
func digest8(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:4])
}

// explainAPI adds to an Admin API error what a denial needs.
func explainAPI(err error, permission, resource string) error {
	var gerr *googleapi.Error
	if errors.As(err, &gerr) && gerr.Code == http.StatusForbidden {
		return fmt.Errorf("%w (this needs %s on %s; see docs/run.md, Cloud Run Jobs)", err, permission, resource)
	}
	return err
}
