package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	runapi "google.golang.org/api/run/v2"
)

// envStartToken is set, in its container's overrides, on every execution
// that run starts: a token of that start, also in the attach file that
// run writes before it calls jobs.run. A run killed before it could write
// the execution's name there leaves the token; the next run finds the
// execution by it rather than start a second one over the same chunks.
const envStartToken = "HELIOS_START_TOKEN"

// adoptPages bounds the executions read to find a token (newest first).
const adoptPages = 10

func newStartToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// adopt finds the execution that the run which left saved (an attach
// file with a start token and no execution) was starting when it was
// killed: an execution of the job whose overrides carry the token. It
// returns saved with that execution, written back, or nil when there is
// none (the call did not reach Cloud Run: a new execution is started).
// When the executions cannot be read, it is an error: starting another
// could render every chunk twice.
func (x *jobExec) adopt(ctx context.Context, saved *attachment, stderr io.Writer) (*attachment, error) {
	p := x.p
	if x.api == nil {
		api, err := p.runAPI(ctx)
		if err != nil {
			return nil, err
		}
		x.api = api
	}
	found, err := x.findStarted(ctx, saved.Job, saved.Token)
	if err != nil {
		return nil, fmt.Errorf("a run stopped while it started an execution of %s; finding that execution failed, and starting "+
			"another could render the chunks twice: %w; run again, or follow it with --attach (gcloud run jobs executions list --job %s)",
			saved.Job, explainAPI(err, "run.executions.list", saved.Job), shortName(saved.Job))
	}
	if found == nil {
		fmt.Fprintf(stderr, "a run stopped while it started an execution of %s, and Cloud Run has none of that start: starting one\n", saved.Job)
		return nil, nil
	}
	a := *saved
	a.Execution, a.Console = found.Name, consoleURL(found.Name)
	if t, err := time.Parse(time.RFC3339Nano, found.CreateTime); err == nil {
		a.Started = t
	}
	if err := writeAttachment(p.attachPath(), a); err != nil {
		return nil, fmt.Errorf("execution %s, which a killed run started, goes on, but %w: follow it with --attach %s", found.Name, err, shortName(found.Name))
	}
	fmt.Fprintf(stderr, "found execution %s, which a run stopped while it started it: following it\n", found.Name)
	return &a, nil
}

// findStarted is the execution of job whose overrides carry token, nil
// when none of the newest does.
func (x *jobExec) findStarted(ctx context.Context, job, token string) (*runapi.GoogleCloudRunV2Execution, error) {
	call := x.api.Projects.Locations.Jobs.Executions.List(job).PageSize(100)
	for range adoptPages {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		page, err := call.Context(cctx).Do()
		cancel()
		if err != nil {
			return nil, err
		}
		for _, ex := range page.Executions {
			if hasEnv(ex.Template, envStartToken, token) {
				return ex, nil
			}
		}
		if page.NextPageToken == "" {
			return nil, nil
		}
		call.PageToken(page.NextPageToken)
	}
	return nil, nil
}

// hasEnv reports whether a container of t has name=value in its env.
func hasEnv(t *runapi.GoogleCloudRunV2TaskTemplate, name, value string) bool {
	if t == nil {
		return false
	}
	for _, c := range t.Containers {
		for _, e := range c.Env {
			if e.Name == name && e.Value == value {
				return true
			}
		}
	}
	return false
}
