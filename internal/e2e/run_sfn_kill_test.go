package e2e

import (
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/helios-project/helios-scaffold/generator"
	"github.com/helios-project/helios-scaffold/internal/holdproxy"
	"github.com/helios-project/helios-scaffold/internal/s3test"
	"github.com/helios-project/helios-scaffold/internal/syncbuf"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
)

// run --target aws --attach ARN, a separate process of the built CLI,
// SIGKILLed (no handler runs, nothing is said or cleaned up): once it
// has printed the execution that --detach started running, and while it
// downloads the merged video of the execution that succeeded (the
// download held halfway by a proxy, its temporary file in --out). In
// each case --attach ARN again follows that execution, the only one of
// the state machine, to its end (succeeded, every chunk), collects the
// merged video with every frame, and leaves in --out neither the attach
// file nor a temporary file.
func TestRunAWSStepFunctionsKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the CLI, the example and the emulator, renders video; skipped with -short")
	}
	bin := cliBinary(t)
	for _, tc := range []struct {
		name string
		// collecting kills run in the download of the merged video, else
		// it is killed once it has printed the execution running.
		collecting bool
	}{
		{name: "following"},
		{name: "collecting", collecting: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := startSFN(t, 3)
			arn := r.detach(t)
			attach, _ := filepath.Glob(filepath.Join(r.v.Dir, ".*.helios-run.attach"))
			if len(attach) != 1 {
				t.Fatalf("attach files after --detach: %v, want one", attach)
			}

			ctx := testdeadline.Context(t)
			cmd := exec.CommandContext(ctx, bin, append([]string{"run", "--progress", "json"}, append(r.args, "--attach", arn)...)...)
			var running atomic.Bool
			stdout := &streamedEvents{on: func(e map[string]any) {
				if e["event"] == "execution" && e["state"] == "running" {
					running.Store(true)
				}
			}}
			var stderr syncbuf.Buffer
			cmd.Stdout, cmd.Stderr = stdout, &stderr
			printed := func() string {
				stdout.mu.Lock()
				defer stdout.mu.Unlock()
				return stdout.all.String() + stderr.String()
			}
			what, there := "run printing the execution running", running.Load
			if tc.collecting {
				held := holdS3Download(t, r.srv, "out.mp4")
				cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL_S3="+held.URL())
				what, there = "run downloading the merged video", func() bool {
					temps, _ := filepath.Glob(filepath.Join(r.v.Dir, ".out.mp4.helios-*.tmp"))
					return held.Held() && len(temps) > 0
				}
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			for deadline := time.Now().Add(testdeadline.Remaining(t)); !there(); time.Sleep(20 * time.Millisecond) {
				select {
				case err := <-exited:
					t.Fatalf("--attach ended (%v) before %s:\n%s", err, what, printed())
				default:
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s never happened:\n%s", what, printed())
				}
			}
			kerr := cmd.Process.Kill()
			err := <-exited
			if exit, ok := errors.AsType[*exec.ExitError](err); !ok || exit.Exited() {
				t.Fatalf("--attach killed at %s: %v (kill: %v)\n%s", what, err, kerr, printed())
			}
			if _, err := os.Stat(attach[0]); err != nil {
				t.Errorf("the attach file is gone after --attach was killed: %v", err)
			}

			events, errs := runEvents(t, 0, append(r.args, "--attach", arn)...)
			execs := eventsOf(events, "execution")
			if len(execs) == 0 || execs[len(execs)-1]["state"] != "succeeded" || execs[len(execs)-1]["succeeded"] != 3.0 || execs[len(execs)-1]["execution"] != arn {
				t.Errorf("the last execution event of --attach after the kill: %v, want %s succeeded with 3 chunks succeeded\n%s", execs, arn, errs)
			}
			checkAllFrames(t, r.v)
			if got := sfnExecutions(ctx, t, r.srv, arn); len(got) != 1 || got[0] != arn {
				t.Errorf("executions of the state machine: %v, want only %s", got, arn)
			}
			if _, err := os.Stat(attach[0]); err == nil {
				t.Error("the attach file is left after the merged video was collected")
			}
			var temps []string
			filepath.WalkDir(r.v.Dir, func(p string, d os.DirEntry, err error) error {
				if err == nil && strings.HasSuffix(d.Name(), ".tmp") {
					temps = append(temps, p)
				}
				return err
			})
			if len(temps) > 0 {
				t.Errorf("temporary files left in --out after --attach collected the merged video: %v\n%s", temps, errs)
			}
		})
	}
}

// cliBinary builds the helios-scaffold command into a temporary folder.
func cliBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "helios-scaffold")
	goCmd(t, "", nil, "build", "-o", bin, generator.ModulePath)
	return bin
}

// sfnExecutions are the ARNs of the executions of the state machine that
// arn is an execution of.
func sfnExecutions(ctx context.Context, t *testing.T, srv *s3test.Server, arn string) []string {
	t.Helper()
	client := sfn.NewFromConfig(srv.Config(s3test.AccessKeyID, s3test.SecretAccessKey), func(o *sfn.Options) { o.BaseEndpoint = aws.String(srv.Endpoint) })
	d, err := client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	var arns []string
	pages := sfn.NewListExecutionsPaginator(client, &sfn.ListExecutionsInput{StateMachineArn: d.StateMachineArn})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range page.Executions {
			arns = append(arns, aws.ToString(x.ExecutionArn))
		}
	}
	return arns
}

// holdS3Download starts a holdproxy in front of moto's S3 that holds
// halfway each GET of an object called name.
func holdS3Download(t *testing.T, srv *s3test.Server, name string) *holdproxy.Proxy {
	t.Helper()
	return holdproxy.Start(t, srv.Endpoint, func(q *http.Request) bool {
		return q.Method == http.MethodGet && strings.HasSuffix(q.URL.Path, "/"+name)
	})
}
