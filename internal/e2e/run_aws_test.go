package e2e

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/helios-project/helios-scaffold/internal/lambdatest"
	"github.com/helios-project/helios-scaffold/internal/s3test"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/fanout/cost"
	"github.com/helios-project/helios-scaffold/runtime/s3store"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// awsRun is a Lambda function as run meets it in these tests: created in
// moto_server (its memory, architecture and reserved concurrency, which
// run's pre-flight reads), its invokes served by a fleet of emulators of
// the aws example's bootstrap, with moto as S3 for the workers and run.
type awsRun struct {
	srv      *s3test.Server
	bucket   string
	function string
	fleet    *lambdatest.Fleet
}

// awsFunctions counts the functions created, to give each a name of its
// own in the shared moto_server.
var awsFunctions atomic.Int64

// startAWS creates a 2048 MB arm64 function in moto, with the reserved
// concurrency reserved unless it is negative, starts a fleet of size
// emulators serving it (moto as its control plane), and points this
// process's AWS clients (run's) at the fleet and at moto.
func startAWS(t *testing.T, size int, reserved int32) *awsRun {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the example and the emulator, renders video; skipped with -short")
	}
	srv := s3test.Shared(t)
	r := &awsRun{srv: srv, bucket: srv.NewBucket(t), function: fmt.Sprintf("helios-e2e-%d", awsFunctions.Add(1))}
	bins := lambdaBinaries(t)
	createFunction(t, srv, r.function, reserved)
	env := []string{
		"AWS_ENDPOINT_URL_S3=" + srv.Endpoint, "AWS_REGION=" + s3test.Region,
		"AWS_ACCESS_KEY_ID=" + s3test.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + s3test.SecretAccessKey,
		"AWS_EC2_METADATA_DISABLED=true", s3store.EnvForcePathStyle + "=true",
	}
	r.fleet = lambdatest.StartFleetT(t, bins, lambdatest.FleetOptions{
		Size: size, Function: r.function, ControlPlane: srv.Endpoint,
		Options: func(int) lambdatest.Options {
			root := t.TempDir()
			return lambdatest.Options{Env: append(env, worker.EnvWorkspaceRoot+"="+root), Dir: root}
		},
	})
	for _, kv := range append(env, "AWS_ENDPOINT_URL_LAMBDA="+r.fleet.Endpoint) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	return r
}

// args are run's flags for project v on this function, uploading to the
// test's bucket, and more.
func (r *awsRun) args(v videoProject, more ...string) []string {
	return append([]string{v.Spec, "--target", "aws", "--function", r.function, "--upload", "s3://" + r.bucket + "/runs"}, more...)
}

// createFunction creates the function in moto as a deployment would:
// 2048 MB, arm64, and its reserved concurrency unless it is negative.
// moto keeps the code and never runs it.
func createFunction(t *testing.T, srv *s3test.Server, name string, reserved int32) {
	t.Helper()
	client := lambda.NewFromConfig(srv.Config(s3test.AccessKeyID, s3test.SecretAccessKey), func(o *lambda.Options) {
		o.BaseEndpoint = aws.String(srv.Endpoint)
	})
	srv.CreateFunction(t, client, s3test.Function{Name: name, MemoryMB: 2048, Arch: types.ArchitectureArm64, Reserved: reserved})
}

// summaryOf is a run's summary line.
func summaryOf(t *testing.T, events []map[string]any) map[string]any {
	t.Helper()
	s := eventsOf(events, "summary")
	if len(s) != 1 {
		t.Fatalf("%d summary lines, want 1", len(s))
	}
	return s[0]
}

// checkAllFrames checks that the merged video has every frame of v.
func checkAllFrames(t *testing.T, v videoProject) {
	t.Helper()
	if n := frames(t, filepath.Join(v.Dir, "out.mp4")); n != videoFrames*v.Chunks {
		t.Errorf("out.mp4 has %d frames, want %d", n, videoFrames*v.Chunks)
	}
}

// hasEvent reports whether an event of kind for chunk matches ok.
func hasEvent(events []map[string]any, kind string, chunk int, ok func(map[string]any) bool) bool {
	for _, e := range eventsOf(events, kind) {
		if e["chunk"] == float64(chunk) && ok(e) {
			return true
		}
	}
	return false
}

// checkReport checks run's HTML report of a run that printed events: the
// job's name in its title, one rectangle per attempt started, and one
// outlined as a hedge per hedge started.
func checkReport(t *testing.T, file string, events []map[string]any) {
	t.Helper()
	page, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("the report: %v", err)
	}
	if !bytes.Contains(page, []byte("<title>job: Helios render report</title>")) {
		t.Errorf("the report's title does not name the job:\n%.500s", page)
	}
	started := eventsOf(events, "started")
	hedges := 0
	for _, e := range started {
		if e["hedge"] == true {
			hedges++
		}
	}
	if n := len(regexp.MustCompile(`<rect[^>]*\sdata-chunk=`).FindAll(page, -1)); n != len(started) {
		t.Errorf("the report draws %d attempts, want the %d started", n, len(started))
	}
	if n := len(regexp.MustCompile(`<rect[^>]*\sclass="[^"]*\bhedge\b`).FindAll(page, -1)); n != hedges {
		t.Errorf("the report outlines %d attempts as hedges, want the %d started", n, hedges)
	}
}

// The Lambda worker of chunk 3 hangs on its first render (for 600 s,
// longer than the test may run): once three chunks have finished and it
// has run a second, run invokes it again beside itself on another
// emulator. The backup wins and puts its output under its own name,
// which the state records; the hung invocation's caller goes away (lost)
// while its function runs on, holding its emulator; the merged video
// has every frame, and the report outlines the hedge.
func TestRunAWSHedge(t *testing.T) {
	r := startAWS(t, 3, -1)
	v := writeVideoProject(t, 10, "hang-90")
	report := filepath.Join(t.TempDir(), "render.html")
	events, _ := runEvents(t, 0, r.args(v, "--concurrency", "2", "--hedge-floor", "1s", "--hedge-after", "3", "--report", report)...)
	if !v.happened("hang-90") {
		t.Fatal("chunk 3 did not hang")
	}
	checkAllFrames(t, v)
	hedged := hasEvent(events, "started", 3, func(e map[string]any) bool { return e["hedge"] == true && e["attempt"] == 2.0 })
	lost := hasEvent(events, "lost", 3, func(e map[string]any) bool { return e["attempt"] == 1.0 })
	if !hedged || !lost {
		t.Errorf("chunk 3: hedged %v, first attempt lost %v; want both\n%v", hedged, lost, events)
	}
	if sum := summaryOf(t, events); sum["hedgesWon"] != 1.0 || sum["ok"] != 10.0 || sum["lost"] != 1.0 {
		t.Errorf("summary %v: want 10 ok, one hedge won, one attempt lost", sum)
	}

	urls := stateOutputURLs(t, filepath.Join(v.Dir, ".job.helios-run"))
	won := urls[3]
	prefix := "s3://" + r.bucket + "/"
	if !strings.HasPrefix(won, prefix) || path.Base(won) != "out_part_3.attempt-2.mp4" {
		t.Fatalf("the state records chunk 3 at %q, want the backup's s3://%s/.../out_part_3.attempt-2.mp4", won, r.bucket)
	}
	dir := path.Dir(strings.TrimPrefix(won, prefix)) + "/"
	list, err := r.srv.Client.ListObjectsV2(testdeadline.Context(t), &s3.ListObjectsV2Input{Bucket: &r.bucket, Prefix: &dir})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range list.Contents {
		keys = append(keys, path.Base(aws.ToString(o.Key)))
	}
	listed := strings.Join(keys, " ")
	if !strings.Contains(" "+listed+" ", " out_part_3.attempt-2.mp4 ") || strings.Contains(" "+listed+" ", " out_part_3.mp4 ") || len(keys) != 10 {
		t.Errorf("the outputs under s3://%s/%s: %s; want the backup's part of chunk 3 and no other of it, ten in all", r.bucket, dir, listed)
	}
	// The hung invocation still holds its emulator; nothing else does.
	if n, a := r.fleet.Busy(), r.fleet.Abandoned(); n != 1 || a != 1 {
		t.Errorf("%d emulators busy, %d invokes abandoned; want the hung one", n, a)
	}
	checkReport(t, report, events)
}

// The Lambda worker of chunk 5 renders 20 of its 30 frames on its first
// render: ffprobe finds it short after the collect, run renders it again
// (a redo event saying why), and the merged video has every frame.
func TestRunAWSVerify(t *testing.T) {
	r := startAWS(t, 2, -1)
	v := writeVideoProject(t, 10, "short-150")
	events, _ := runEvents(t, 0, r.args(v, "--concurrency", "2")...)
	if !v.happened("short-150") {
		t.Fatal("chunk 5 was not short")
	}
	redo := hasEvent(events, "redo", 5, func(e map[string]any) bool {
		why, _ := e["reason"].(string)
		return strings.Contains(why, "has 20 frames; want 30")
	})
	if !redo || len(eventsOf(events, "redo")) != 1 {
		t.Errorf("want one redo event, of chunk 5 for its 20 frames:\n%v", eventsOf(events, "redo"))
	}
	if sum := summaryOf(t, events); sum["ok"] != 10.0 || sum["failed"] != 0.0 {
		t.Errorf("summary %v: want 10 ok", sum)
	}
	checkAllFrames(t, v)
}

// The function reserves a concurrency of 2: run lowers --concurrency 8 to
// it, saying why, and prices every attempt as the function is (2048 MB
// arm64, read from its configuration). A run of a fresh project with a
// --budget of two and a half chunks stops starting chunks once the
// first has finished (exit 1, the state kept, the webhook told
// "budget"); the same command with a larger budget renders the rest
// only.
func TestRunAWSQuotaCostBudget(t *testing.T) {
	r := startAWS(t, 2, 2)
	model := cost.Model{Worker: cost.Worker{Platform: cost.AWS, MemoryMB: 2048, Arch: cost.ArchARM}, Prices: cost.Default}

	v := writeVideoProject(t, 4)
	events, stderr := runEvents(t, 0, r.args(v, "--concurrency", "8")...)
	if want := "lowering --concurrency from 8 to 2: the function's reserved concurrency is 2"; !strings.Contains(stderr, want) {
		t.Errorf("stderr does not say %q:\n%s", want, stderr)
	}
	sum := summaryOf(t, events)
	spent, _ := sum["spentUsd"].(float64)
	if prices, _ := sum["prices"].(string); spent <= 0 || !strings.Contains(prices, "Lambda arm64 2048 MB") {
		t.Errorf("summary %v: want a spend priced as Lambda arm64 2048 MB", sum)
	}
	// What was spent is every attempt's duration at that size's price
	// (the events' durations are in whole milliseconds, Lambda bills
	// started ones).
	var low, high float64
	cheapest := math.Inf(1)
	for _, e := range events {
		switch e["event"] {
		case "finished", "retried", "failed", "lost", "killed": // an attempt ended
		default:
			continue
		}
		ms, _ := e["durationMs"].(float64) // absent when 0
		d := time.Duration(ms) * time.Millisecond
		low, high = low+model.Attempt(d), high+model.Attempt(d+time.Millisecond)
		if e["event"] == "finished" {
			cheapest = min(cheapest, model.Attempt(d))
		}
	}
	if spent < low*0.999 || spent > high*1.001 {
		t.Errorf("spent $%g, want the attempts' $%g to $%g", spent, low, high)
	}
	for _, e := range eventsOf(events, "finished") {
		if s, _ := e["spentUsd"].(float64); s <= 0 {
			t.Errorf("finished event without spentUsd: %v", e)
		}
	}

	// A fresh project of 10 chunks, with a budget of 2.5 of the cheapest
	// chunk above: once a chunk finishes, the estimate is 10 of it.
	v = writeVideoProject(t, 10)
	budget := strconv.FormatFloat(2.5*cheapest, 'g', -1, 64)
	hook := startHookReceiver(t, "budget-secret", 0)
	events, stderr = runEvents(t, 1, r.args(v, "--budget", budget, "--webhook", hook.URL, "--webhook-secret", "budget-secret")...)
	if !strings.Contains(stderr, "over budget") {
		t.Errorf("stderr does not say the run went over budget:\n%s", stderr)
	}
	sum = summaryOf(t, events)
	done := map[float64]bool{}
	for _, e := range eventsOf(events, "finished") {
		done[e["chunk"].(float64)] = true
	}
	if notRun, _ := sum["notRun"].(float64); notRun == 0 || len(done) == 0 || sum["ok"] != float64(len(done)) {
		t.Fatalf("summary %v: want some chunks done and some not run", sum)
	}
	if urls := stateOutputURLs(t, filepath.Join(v.Dir, ".job.helios-run")); len(urls) != len(done) {
		t.Errorf("the state records %d chunks, want the %d done", len(urls), len(done))
	}
	if _, err := os.Stat(filepath.Join(v.Dir, "out.mp4")); err == nil {
		t.Error("a run stopped by its budget merged")
	}
	if p := hook.checkOneOutcome(t, "budget"); p.NotRun == 0 || p.CostUSD <= 0 || !strings.Contains(p.Message, "over budget") {
		t.Errorf("payload %+v: want chunks not run, a cost, and why", p)
	}

	events, _ = runEvents(t, 0, r.args(v, "--budget", "100")...)
	for _, e := range eventsOf(events, "skipped") {
		if !done[e["chunk"].(float64)] {
			t.Errorf("skipped chunk %v, which the budget run did not render", e["chunk"])
		}
	}
	for _, e := range eventsOf(events, "started") {
		if done[e["chunk"].(float64)] {
			t.Errorf("rendered chunk %v again, which the budget run had done", e["chunk"])
		}
	}
	if sum := summaryOf(t, events); sum["skipped"] != float64(len(done)) || sum["ok"] != float64(10-len(done)) {
		t.Errorf("summary %v: want the %d chunks done skipped and the rest rendered", sum, len(done))
	}
	checkAllFrames(t, v)
}

// A Lambda run tells a webhook receiver, which refuses the first
// delivery, that it is done, signed, once; its HTML report draws every
// attempt.
func TestRunAWSWebhookReport(t *testing.T) {
	r := startAWS(t, 2, -1)
	v := writeVideoProject(t, 10)
	hook := startHookReceiver(t, "hook-secret", 1)
	report := filepath.Join(t.TempDir(), "render.html")
	events, stderr := runEvents(t, 0, r.args(v, "--webhook", hook.URL, "--webhook-secret", "hook-secret", "--report", report)...)
	p := hook.checkOneOutcome(t, "done")
	if p.OK != 10 || p.CostUSD <= 0 || !strings.HasSuffix(p.Output, string(filepath.Separator)+"out.mp4") || p.Target != "aws" {
		t.Errorf("payload %+v: want 10 ok, a cost, the merged video", p)
	}
	if !strings.Contains(stderr, "report: "+report) {
		t.Errorf("stderr does not name the report:\n%s", stderr)
	}
	checkReport(t, report, events)
	checkAllFrames(t, v)
}
