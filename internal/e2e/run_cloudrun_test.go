package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	runapi "google.golang.org/api/run/v2"

	"github.com/helios-project/helios-scaffold/internal/cli"
	"github.com/helios-project/helios-scaffold/internal/gcstest"
	"github.com/helios-project/helios-scaffold/internal/procfs"
	"github.com/helios-project/helios-scaffold/internal/runapitest"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/fanout/cost"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// The Cloud Run service of these tests, as the stand-in Admin API holds
// it.
const (
	crService = "projects/p/locations/us-central1/services/helios-worker"
	crAbsent  = "projects/p/locations/us-central1/services/not-deployed"
)

// runService is a Cloud Run service on this machine: the cloud-run
// example's server (which serves requests concurrently, so one process
// stands for a service of many instances), fake-gcs-server as its and
// run's Cloud Storage, and the Admin API stand-in that run reads the
// service's limits and size from.
type runService struct {
	GCS *gcstest.Server
	API *runapitest.Server
	URL string
	PID int // the server's
	// Mark is the server's HELIOS_WORKSPACE_ROOT entry, of this test
	// only, which every chunk it starts inherits, and what they start.
	Mark string
}

// startRunService starts the service, with the Admin API holding it as
// crService (maxInstances of one request each, 1 vCPU and 512 MiB), and
// points this
// process's Cloud Storage and Admin API clients at the stand-ins.
func startRunService(t *testing.T, maxInstances int64) *runService {
	t.Helper()
	c := &runService{GCS: gcstest.Start(t), API: runapitest.Start(t)}
	c.GCS.CreateBucket(jobsBucket)
	t.Setenv(gcstest.EmulatorHostEnv, c.GCS.Host())
	t.Setenv("HELIOS_CLOUDRUN_API", c.API.URL+"/")
	c.API.PutService(&runapi.GoogleCloudRunV2Service{
		Name: crService,
		Uri:  "https://helios-worker-abc123-uc.a.run.app",
		Template: &runapi.GoogleCloudRunV2RevisionTemplate{
			Scaling:                       &runapi.GoogleCloudRunV2RevisionScaling{MaxInstanceCount: maxInstances},
			MaxInstanceRequestConcurrency: 1,
			Containers: []*runapi.GoogleCloudRunV2Container{{
				Image:     "us-docker.pkg.dev/p/helios/worker@sha256:0f",
				Resources: &runapi.GoogleCloudRunV2ResourceRequirements{Limits: map[string]string{"cpu": "1", "memory": "512Mi"}},
			}},
		},
	})
	bin := cloudRunBinary(t)
	c.Mark = worker.EnvWorkspaceRoot + "=" + t.TempDir()
	c.URL, _ = startServerURL(t, bin, append(os.Environ(), c.GCS.Env(), c.Mark), nil)
	var found []int
	for _, pid := range procfs.WithEntry(c.Mark) {
		if argv := procArgv(pid); len(argv) > 0 && argv[0] == bin && procfs.Running(pid) {
			found = append(found, pid)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d processes run %s with %s (%v), want the server", len(found), bin, c.Mark, found)
	}
	c.PID = found[0]
	return c
}

// args are run's arguments for project v on the service: its upload
// prefix is of its own, the service's limits are read from the
// stand-in.
func (c *runService) args(v videoProject, prefix string, more ...string) []string {
	return append([]string{v.Spec, "--target", "cloudrun", "--url", c.URL, "--no-auth",
		"--upload", "gs://" + jobsBucket + "/" + prefix, "--service", crService}, more...)
}

// procArgv is pid's argv, nil when it is gone.
func procArgv(pid int) []string {
	data, _ := procfs.Read(nil, fmt.Sprintf("/proc/%d/cmdline", pid))
	if len(data) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(data), "\x00"), "\x00")
}

// procsBelow are the processes below pid that have not exited, each
// with its argv.
func procsBelow(pid int) map[int]string {
	found := map[int]string{}
	queue := []int{pid}
	for len(queue) > 0 {
		kids, _ := procfs.Children(queue[0])
		queue = queue[1:]
		for _, k := range kids {
			if _, seen := found[k]; !seen && procfs.Running(k) {
				found[k] = strings.Join(procArgv(k), " ")
				queue = append(queue, k)
			}
		}
	}
	return found
}

// chunkProcs are the processes that the server's chunks started and
// that have not exited, each with its argv: those below the server, and
// any that left it (their environment holds the server's Mark).
func (c *runService) chunkProcs() map[int]string {
	found := procsBelow(c.PID)
	for _, pid := range procfs.WithEntry(c.Mark) {
		if _, ok := found[pid]; !ok && pid != c.PID && procfs.Running(pid) {
			found[pid] = strings.Join(procArgv(pid), " ")
		}
	}
	return found
}

// sleeps are the chunkProcs that run `sleep 600`: a hung chunk of a
// video project.
func (c *runService) sleeps() []int {
	var pids []int
	for p, argv := range c.chunkProcs() {
		if argv == "sleep 600" {
			pids = append(pids, p)
		}
	}
	return pids
}

// checkNoChunkProcs waits until no chunk process of the server is left.
// The wait is bounded by 5 minutes, half the 600 s that a hung chunk's
// sleep would take to end by itself, so that only a kill passes it.
func (c *runService) checkNoChunkProcs(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(min(testdeadline.Remaining(t), 5*time.Minute))
	for {
		left := c.chunkProcs()
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("chunk processes still running after the run (the server is pid %d): %v", c.PID, left)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// streamedEvents is run's stdout, parsed as its JSON lines arrive; each
// event is handed to on, if set, as it is parsed.
type streamedEvents struct {
	on func(map[string]any)

	mu     sync.Mutex
	all    bytes.Buffer
	rest   []byte
	events []map[string]any
}

func (l *streamedEvents) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all.Write(p)
	l.rest = append(l.rest, p...)
	for {
		i := bytes.IndexByte(l.rest, '\n')
		if i < 0 {
			return len(p), nil
		}
		var e map[string]any
		if json.Unmarshal(l.rest[:i], &e) == nil {
			l.events = append(l.events, e)
			if l.on != nil {
				l.on(e)
			}
		}
		l.rest = l.rest[i+1:]
	}
}

// runEventsCtx is runEvents with the context that cli.Run gets and a
// function that sees each event as it is printed.
func runEventsCtx(t *testing.T, ctx context.Context, want int, on func(map[string]any), args ...string) ([]map[string]any, string) {
	t.Helper()
	out := &streamedEvents{on: on}
	var errb bytes.Buffer
	args = append([]string{"run", "--progress", "json"}, args...)
	if code := cli.Run(ctx, args, out, &errb); code != want {
		t.Fatalf("helios-scaffold %v: exit %d, want %d\n%s%s", args, code, want, out.all.String(), errb.String())
	}
	return out.events, errb.String()
}

// summaryEvent is the run's summary line.
func summaryEvent(t *testing.T, events []map[string]any) map[string]any {
	t.Helper()
	s := eventsOf(events, "summary")
	if len(s) != 1 {
		t.Fatalf("%d summary lines, want 1: %v", len(s), events)
	}
	return s[0]
}

// chunkEventOf is the event of kind for chunk and attempt, nil when there
// is none.
func chunkEventOf(events []map[string]any, kind string, chunk, attempt int) map[string]any {
	for _, e := range eventsOf(events, kind) {
		if e["chunk"] == float64(chunk) && (attempt == 0 || e["attempt"] == float64(attempt)) {
			return e
		}
	}
	return nil
}

// attemptEndKinds are the events that end an attempt.
var attemptEndKinds = []string{"finished", "retried", "failed", "lost", "killed"}

// maxAttemptsInFlight is the most attempts in flight at once, by the events.
func maxAttemptsInFlight(events []map[string]any) int {
	n, most := 0, 0
	for _, e := range events {
		switch kind, _ := e["event"].(string); {
		case kind == "started":
			n++
			most = max(most, n)
		case slices.Contains(attemptEndKinds, kind):
			n--
		}
	}
	return most
}

// checkVideoMerged checks that v's merged video holds every frame.
func checkVideoMerged(t *testing.T, v videoProject) {
	t.Helper()
	if n := frames(t, filepath.Join(v.Dir, "out.mp4")); n != videoFrames*v.Chunks {
		t.Errorf("out.mp4 has %d frames, want %d", n, videoFrames*v.Chunks)
	}
}

// TestRunCloudRunHedge: chunk 3 hangs (for 600 s) on its first render.
// Once 3 chunks have finished and it has run past the hedge floor (1 s)
// and 10 times their p90, run issues it again beside itself; the backup
// renders it under its attempt's own name and wins, the hung attempt's
// call is cancelled, and the server kills its chunk: no process of the
// chunks is left.
func TestRunCloudRunHedge(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example; skipped with -short")
	}
	c := startRunService(t, 10)
	v := writeVideoProject(t, 10, "hang-90")
	var hungAtHedge []int
	events, stderr := runEventsCtx(t, testdeadline.Context(t), 0, func(e map[string]any) {
		if e["event"] == "started" && e["hedge"] == true {
			hungAtHedge = c.sleeps() // the first attempt's sleep, still running
		}
	}, c.args(v, "hedge", "--concurrency", "2", "--hedge-floor", "1s", "--hedge-after", "3",
		"--hedge-factor", "10")...) // not 3: no chunk but the hung one straggles that much on a loaded machine
	if !v.happened("hang-90") {
		t.Fatal("chunk 3 did not hang on its first render")
	}
	checkVideoMerged(t, v)
	hedge := chunkEventOf(events, "started", 3, 2)
	if hedge == nil || hedge["hedge"] != true || !strings.Contains(fmt.Sprint(hedge["reason"]), "past") {
		t.Errorf("no hedged start of chunk 3's attempt 2 with its reason: %v", hedge)
	}
	if n := len(slices.DeleteFunc(eventsOf(events, "started"), func(e map[string]any) bool { return e["hedge"] != true })); n != 1 {
		t.Errorf("%d hedged starts, want only chunk 3's", n)
	}
	if e := chunkEventOf(events, "lost", 3, 1); e == nil {
		t.Errorf("no lost event for chunk 3's attempt 1:\n%v", events)
	}
	if e := chunkEventOf(events, "finished", 3, 2); e == nil || !strings.HasSuffix(fmt.Sprint(e["outputUrl"]), "/out_part_3.attempt-2.mp4") {
		t.Errorf("chunk 3's finished event %v: want attempt 2's output out_part_3.attempt-2.mp4", e)
	}
	sum := summaryEvent(t, events)
	if sum["hedges"] != float64(1) || sum["hedgesWon"] != float64(1) || sum["lost"] != float64(1) || sum["ok"] != float64(10) {
		t.Errorf("summary %v: want 10 ok, 1 hedge, won, and 1 lost", sum)
	}
	if len(hungAtHedge) != 1 {
		t.Errorf("when the backup started, %d sleep 600 ran of the server's chunks (%v), want chunk 3's first attempt", len(hungAtHedge), hungAtHedge)
	}

	// The winner's output is the one recorded, and in the bucket.
	url := stateOutputURLs(t, filepath.Join(v.Dir, ".job.helios-run"))[3]
	name, ok := strings.CutPrefix(url, "gs://"+jobsBucket+"/")
	if !ok || !strings.HasSuffix(name, "/out_part_3.attempt-2.mp4") {
		t.Errorf("the state records %q for chunk 3, want its attempt 2's out_part_3.attempt-2.mp4", url)
	} else if obj, ok := c.GCS.Object(jobsBucket, name); !ok || len(obj.Content) == 0 {
		t.Errorf("the bucket has no %s", name)
	}
	c.checkNoChunkProcs(t)
	if t.Failed() {
		t.Logf("run's stderr:\n%s", stderr)
	}
}

// TestRunCloudRunVerify: chunk 5 renders 10 frames short on its first
// render. Its output is proven by size and SHA-256 (it is what its
// worker put), but not as video: ffprobe finds 20 frames, run renders it
// again (a redo event saying why) and merges every frame.
func TestRunCloudRunVerify(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example; skipped with -short")
	}
	c := startRunService(t, 10)
	v := writeVideoProject(t, 10, "short-150")
	events, stderr := runEventsCtx(t, testdeadline.Context(t), 0, nil, c.args(v, "verify", "--concurrency", "3")...)
	if !v.happened("short-150") {
		t.Fatal("chunk 5 did not render short")
	}
	redo := eventsOf(events, "redo")
	if len(redo) != 1 || redo[0]["chunk"] != float64(5) || !strings.Contains(fmt.Sprint(redo[0]["reason"]), "has 20 frames; want 30") {
		t.Errorf("redo events %v: want one, for chunk 5, saying it has 20 frames; want 30\n%s", redo, stderr)
	}
	checkVideoMerged(t, v)
}

// TestRunCloudRunQuota: run reads the service through the Admin API
// (without credentials, with --no-auth): 2 instances of one request
// each lower --concurrency 8 to 2, and each attempt is priced as the
// service's 1 vCPU and 512 MiB. A budget stops the run once the estimate
// passes it, and a rerun with more goes on from there. A service that
// the API does not know leaves the limits unread, and the run goes on.
func TestRunCloudRunQuota(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example; skipped with -short")
	}
	c := startRunService(t, 2)
	model := cost.Model{Worker: cost.Worker{Platform: cost.CloudRun, CPU: 1, MemoryMB: 512}, Prices: cost.Default}

	t.Run("limits and cost", func(t *testing.T) {
		v := writeVideoProject(t, 10)
		events, stderr := runEventsCtx(t, testdeadline.Context(t), 0, nil, c.args(v, "quota", "--concurrency", "8", "--no-hedge")...) // a backup would be a third call
		if !strings.Contains(stderr, "lowering --concurrency from 8 to 2: the service's maximum of 2 instances × 1 request each = 2 in flight") {
			t.Errorf("stderr does not say that --concurrency was lowered to the service's 2:\n%s", stderr)
		}
		if n := maxAttemptsInFlight(events); n > 2 {
			t.Errorf("%d attempts in flight at once, want at most 2", n)
		}
		// What was spent is each attempt at the service's size: between
		// its duration in whole milliseconds, as the events say it, and
		// a millisecond more.
		var lo, hi float64
		for _, e := range events {
			if ms, ok := e["durationMs"].(float64); ok && slices.Contains(attemptEndKinds, e["event"].(string)) {
				d := time.Duration(ms) * time.Millisecond
				lo, hi = lo+model.Attempt(d), hi+model.Attempt(d+time.Millisecond)
			}
		}
		sum := summaryEvent(t, events)
		spent, _ := sum["spentUsd"].(float64)
		if spent <= 0 || spent < lo-1e-12 || spent > hi+1e-12 {
			t.Errorf("spentUsd %v: want the attempts at 1 vCPU and 512 MiB, between %v and %v", spent, lo, hi)
		}
		if p := fmt.Sprint(sum["prices"]); !strings.Contains(p, "Cloud Run 1 vCPU 512 MiB") {
			t.Errorf("prices %q: want the service's size, Cloud Run 1 vCPU 512 MiB", p)
		}
		checkVideoMerged(t, v)
		reqs := c.API.Requests()
		if len(reqs) == 0 {
			t.Fatal("run did not read the service")
		}
		for _, r := range reqs {
			if r.Method != http.MethodGet || r.Path != "/v2/"+crService || r.Status != http.StatusOK || r.Header.Get("Authorization") != "" {
				t.Errorf("the Admin API got %s %s (answered %d, Authorization %q): want only an unauthenticated GET of the service",
					r.Method, r.Path, r.Status, r.Header.Get("Authorization"))
			}
		}
	})

	t.Run("budget", func(t *testing.T) {
		v := writeVideoProject(t, 10)
		// Any attempt costs at least a billed 100 ms and its request:
		// once one chunk is done, the estimate for the ten is more than
		// 2.5 chunks' worth.
		budget := 2.5 * model.Attempt(time.Nanosecond)
		args := c.args(v, "budget", "--budget", fmt.Sprintf("%.10f", budget))
		events, stderr := runEventsCtx(t, testdeadline.Context(t), 1, nil, args...)
		sum := summaryEvent(t, events)
		ok, _ := sum["ok"].(float64)
		if !strings.Contains(stderr, "over budget") || sum["notRun"] == float64(0) || ok < 1 || sum["estimateUsd"].(float64) <= budget {
			t.Fatalf("summary %v: want the run stopped over budget, a chunk done and some not run\n%s", sum, stderr)
		}
		if _, err := os.Stat(filepath.Join(v.Dir, "out.mp4")); err == nil {
			t.Error("a run stopped by its budget merged")
		}

		events, _ = runEventsCtx(t, testdeadline.Context(t), 0, nil, c.args(v, "budget", "--budget", "1")...)
		skipped := eventsOf(events, "skipped")
		sum2 := summaryEvent(t, events)
		if float64(len(skipped)) != ok || sum2["skipped"] != ok || sum2["ok"] != 10-ok {
			t.Errorf("the rerun skipped %d chunks and its summary is %v; want the %v done before skipped and the rest rendered", len(skipped), sum2, ok)
		}
		for _, e := range skipped {
			if chunkEventOf(events, "started", int(e["chunk"].(float64)), 0) != nil {
				t.Errorf("chunk %v was skipped and started again", e["chunk"])
			}
		}
		checkVideoMerged(t, v)
	})

	t.Run("no such service", func(t *testing.T) {
		v := writeVideoProject(t, 2)
		args := c.args(v, "absent", "--service", crAbsent) // the last --service counts
		events, stderr := runEventsCtx(t, testdeadline.Context(t), 0, nil, args...)
		if !strings.Contains(stderr, "could not read the worker's limits") || !strings.Contains(stderr, "not-deployed") ||
			strings.Contains(stderr, "lowering --concurrency") {
			t.Errorf("stderr does not say that the limits of %s could not be read:\n%s", crAbsent, stderr)
		}
		if sum := summaryEvent(t, events); sum["ok"] != float64(2) || sum["prices"] != "" {
			t.Errorf("summary %v: want both chunks rendered, and not priced", sum)
		}
		checkVideoMerged(t, v)
	})

	t.Run("budget without the service's size", func(t *testing.T) {
		// Without the service's size there is nothing to price the
		// calls with, so a --budget cannot be kept: run must refuse to
		// start (exit 2), not render without a limit. The size is
		// unknown when the service is not there, and when no --service
		// (nor an answers file) names it.
		for _, tc := range []struct{ name, prefix, service string }{
			{"not deployed", "absent-budget", crAbsent},
			{"no --service", "no-service-budget", ""},
		} {
			v := writeVideoProject(t, 2)
			args := c.args(v, tc.prefix, "--budget", "1")
			if tc.service == "" {
				args = slices.DeleteFunc(args, func(a string) bool { return a == "--service" || a == crService })
			} else {
				args = append(args, "--service", tc.service) // the last --service counts
			}
			var out, errb bytes.Buffer
			code := cli.Run(testdeadline.Context(t), append([]string{"run", "--progress", "json"}, args...), &out, &errb)
			if code != 2 || !strings.Contains(errb.String(), "--budget") {
				t.Errorf("%s: exit %d, want 2 with a message naming --budget\n%s%s", tc.name, code, out.String(), errb.String())
			}
			if strings.Contains(out.String(), `"event":"started"`) {
				t.Errorf("%s: chunks were started under a budget that cannot be priced", tc.name)
			}
		}
	})
}

// TestRunCloudRunWebhookReport: a finished render tells the receiver,
// which refuses the first delivery, once (signed, retried under the same
// id), and writes a report with a rectangle per attempt. A run whose
// context is cancelled after its first chunk tells that it was
// interrupted, once.
func TestRunCloudRunWebhookReport(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example; skipped with -short")
	}
	c := startRunService(t, 10)
	const secret = "hook-secret"

	t.Run("done", func(t *testing.T) {
		v := writeVideoProject(t, 10)
		setVideoSpecID(t, v, "intro-webhook")
		hook := startHookReceiver(t, secret, 1)
		report := filepath.Join(t.TempDir(), "r.html")
		events, stderr := runEventsCtx(t, testdeadline.Context(t), 0, nil,
			c.args(v, "webhook", "--concurrency", "3", "--webhook", hook.URL, "--webhook-secret", secret, "--report", report)...)
		p := hook.checkOneOutcome(t, "done")
		if p.Job != "intro-webhook" || p.OK != 10 || p.Failed != 0 || p.CostUSD <= 0 || p.Target != "cloudrun" {
			t.Errorf("payload %+v: want job intro-webhook, 10 ok on cloudrun, a cost", p)
		}
		if p.Output != filepath.Join(v.Dir, "out.mp4") {
			t.Errorf("payload output %q, want the merged %s", p.Output, filepath.Join(v.Dir, "out.mp4"))
		}
		page, err := os.ReadFile(report)
		if err != nil {
			t.Fatalf("no report: %v\n%s", err, stderr)
		}
		if !bytes.Contains(page, []byte("<title>intro-webhook: Helios render report</title>")) {
			t.Error("the report does not name the job intro-webhook")
		}
		started := len(eventsOf(events, "started"))
		if n := len(attemptRectRE.FindAll(page, -1)); n != started || started < 10 {
			t.Errorf("the report draws %d attempts, want the %d started", n, started)
		}
	})

	t.Run("interrupted", func(t *testing.T) {
		v := writeVideoProject(t, 10)
		hook := startHookReceiver(t, secret, 0)
		report := filepath.Join(t.TempDir(), "r.html")
		ctx, cancel := context.WithCancel(testdeadline.Context(t))
		defer cancel()
		events, stderr := runEventsCtx(t, ctx, 130, func(e map[string]any) {
			if e["event"] == "finished" {
				cancel()
			}
		}, c.args(v, "interrupted", "--concurrency", "2", "--webhook", hook.URL, "--webhook-secret", secret, "--report", report)...)
		if !strings.Contains(stderr, "interrupted") {
			t.Errorf("stderr does not say the run was interrupted:\n%s", stderr)
		}
		p := hook.checkOneOutcome(t, "interrupted")
		sum := summaryEvent(t, events)
		if p.NotRun == 0 || float64(p.OK) != sum["ok"] || p.OK < 1 {
			t.Errorf("payload %+v, summary %v: want the chunks done and some not run", p, sum)
		}
		if _, err := os.Stat(filepath.Join(v.Dir, "out.mp4")); err == nil {
			t.Error("an interrupted run merged")
		}
		page, err := os.ReadFile(report)
		if err != nil || !bytes.Contains(page, []byte(`id="outcome">interrupted<`)) {
			t.Errorf("the report of the interrupted run is missing or does not say so: %v", err)
		}
	})
}

// attemptRectRE is an attempt's rectangle in the report.
var attemptRectRE = regexp.MustCompile(`<rect[^>]*\sdata-chunk=`)

// setVideoSpecID gives v's spec an id.
func setVideoSpecID(t *testing.T, v videoProject, id string) {
	t.Helper()
	data, err := os.ReadFile(v.Spec)
	if err != nil {
		t.Fatal(err)
	}
	var spec map[string]any
	if err := json.Unmarshal(data, &spec); err != nil {
		t.Fatal(err)
	}
	spec["id"] = id
	data, _ = json.Marshal(spec)
	if err := os.WriteFile(v.Spec, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
