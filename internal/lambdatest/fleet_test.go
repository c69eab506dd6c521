package lambdatest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/awslambda/lambdacaller"
	"github.com/helios-project/helios-scaffold/runtime/fanout"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// TestMain removes what BuildT built once the tests ran.
func TestMain(m *testing.M) {
	code := m.Run()
	RemoveBuild()
	os.Exit(code)
}

// fleetFunction is the function the test fleets serve.
const fleetFunction = "render-worker"

// fleetBinaries builds the emulator and the bootstrap, once per test
// binary, or skips the test where they cannot run.
func fleetBinaries(t *testing.T) Binaries {
	t.Helper()
	if testing.Short() {
		t.Skip("starts Lambda emulators; skipped with -short")
	}
	b, err := BuildT(t)
	if errors.Is(err, ErrUnsupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// startTestFleet starts a fleet of size emulators of fleetFunction, each
// with a workspace root of its own, and controlPlane behind it.
func startTestFleet(t *testing.T, size int, controlPlane string, acct AccountSettings) *Fleet {
	t.Helper()
	return StartFleetT(t, fleetBinaries(t), FleetOptions{
		Size: size, Function: fleetFunction, ControlPlane: controlPlane, Account: acct,
		Options: func(int) Options {
			root := t.TempDir()
			return Options{Env: []string{worker.EnvWorkspaceRoot + "=" + root}, Dir: root}
		},
	})
}

// gatedJob is a job spec on this machine whose chunk 0 answers at once
// and whose chunk n, from 1 to 3, runs until the test opens its gate.
type gatedJob struct {
	Path string
	dir  string
}

func writeGatedJob(t *testing.T) gatedJob {
	t.Helper()
	dir := t.TempDir()
	spec := jobspec.Spec{ID: "fleet", Metadata: jobspec.Metadata{TotalFrames: 100, FPS: 25, Width: 64, Height: 64, Duration: 4}}
	spec.Chunks = append(spec.Chunks, jobspec.Chunk{ID: 0, FrameCount: 25, Command: "echo quick"})
	for n := int64(1); n <= 3; n++ {
		gate := filepath.Join(dir, fmt.Sprintf("gate-%d", n))
		spec.Chunks = append(spec.Chunks, jobspec.Chunk{ID: n, StartFrame: 25 * n, FrameCount: 25,
			Command: fmt.Sprintf(`sh -c 'while test ! -e %s; do sleep 0.05; done; echo released-%d'`, gate, n)})
	}
	data, _ := json.Marshal(spec)
	path := filepath.Join(dir, "job.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return gatedJob{Path: path, dir: dir}
}

// open lets chunk n finish.
func (j gatedJob) open(n int64) error {
	return os.WriteFile(filepath.Join(j.dir, fmt.Sprintf("gate-%d", n)), nil, 0o644)
}

// callAsync calls chunk n through lambdacaller, as run does, and sends
// what it got on the returned channel.
func callAsync(ctx context.Context, f *Fleet, job string, n int64) <-chan error {
	done := make(chan error, 1)
	go func() {
		res, err := lambdacaller.New(f.Client, f.Function).Call(ctx, jobspec.Request{JobPath: job, ChunkIndex: n})
		if err == nil && (!res.OK() || !strings.Contains(res.Stdout, fmt.Sprintf("released-%d", n))) {
			err = fmt.Errorf("chunk %d answered %+v", n, res)
		}
		done <- err
	}()
	return done
}

// waitCall waits for a call made by callAsync.
func waitCall(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-testdeadline.After(t):
		t.Fatal("a call did not end")
		return nil
	}
}

// Two invokes at once run on the fleet's two emulators; a third, while
// both are busy, is refused as Lambda refuses it, which the SDK makes a
// TooManyRequestsException and fanout's Runner tries again until an
// emulator is free.
func TestFleetThrottles(t *testing.T) {
	f := startTestFleet(t, 2, "", AccountSettings{})
	job := writeGatedJob(t)
	ctx := testdeadline.Context(t)
	first := callAsync(ctx, f, job.Path, 1) // on the first emulator, the first idle one
	if !f.WaitBusy(1, testdeadline.Remaining(t)) {
		t.Fatalf("%d emulators busy, want one", f.Busy())
	}
	second := callAsync(ctx, f, job.Path, 2) // on the second: the first is busy
	if !f.WaitBusy(2, testdeadline.Remaining(t)) {
		t.Fatalf("%d emulators busy, want both", f.Busy())
	}

	_, err := f.Client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(fleetFunction), Payload: Event(job.Path, 0)})
	var tmr *types.TooManyRequestsException
	if !errors.As(err, &tmr) || tmr.ErrorCode() != "TooManyRequestsException" || tmr.ErrorMessage() != "Rate Exceeded." || tmr.Type == nil || *tmr.Type != "User" {
		t.Fatalf("invoke while the fleet is busy: %v; want a TooManyRequestsException, Rate Exceeded.", err)
	}
	if n := f.Throttled(); n != 1 {
		t.Errorf("Throttled = %d, want 1", n)
	}

	// The Runner meets the same refusal, tries again, and gets through
	// once the first call's emulator is free.
	parsed, err := fanout.ParseJob(job.Path, mustRead(t, job.Path))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var retried []string
	var openErr error
	r := &fanout.Runner{Target: lambdacaller.New(f.Client, f.Function), JobPath: job.Path, Concurrency: 1, Retries: 1 << 20, // until the test's deadline
		Backoff: fanout.Backoff{Base: 10 * time.Millisecond, Max: 50 * time.Millisecond},
		Events: func(e fanout.Event) {
			if e.Kind != fanout.EventRetried {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if retried = append(retried, e.Reason); len(retried) == 1 {
				openErr = job.open(1)
			}
		}}
	sum, err := r.Run(ctx, parsed.Only([]int64{0}))
	if openErr != nil {
		t.Fatal(openErr)
	}
	if err != nil || sum.OK != 1 || sum.Retries == 0 {
		t.Fatalf("Runner: %+v, %v; want chunk 0 done after retries", sum, err)
	}
	if !strings.Contains(retried[0], "TooManyRequestsException") {
		t.Errorf("retried because %q, want the TooManyRequestsException", retried[0])
	}
	if err := waitCall(t, first); err != nil {
		t.Error(err)
	}
	if err := job.open(2); err != nil {
		t.Fatal(err)
	}
	if err := waitCall(t, second); err != nil {
		t.Error(err)
	}
	// Chunk 1 and then chunk 0 on the first emulator, chunk 2 on the
	// second; every refusal counted.
	if got := f.Invocations(); fmt.Sprint(got) != "[2 1]" {
		t.Errorf("invocations per emulator %v, want [2 1]", got)
	}
	if got, want := f.Throttled(), 1+sum.Retries; got != want {
		t.Errorf("Throttled = %d, want %d (the SDK's refusal and each of the Runner's)", got, want)
	}
}

// A caller that gives up does not free its emulator: the function runs
// on, and an invoke meanwhile is refused; once the function ends, the
// emulator takes the next invoke.
func TestFleetCancelledInvokeKeepsInstance(t *testing.T) {
	f := startTestFleet(t, 1, "", AccountSettings{})
	job := writeGatedJob(t)
	ctx := testdeadline.Context(t)
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	gone := callAsync(cctx, f, job.Path, 1)
	if !f.WaitBusy(1, testdeadline.Remaining(t)) {
		t.Fatal("the emulator did not get the invoke")
	}
	cancel()
	if err := waitCall(t, gone); !errors.Is(err, context.Canceled) {
		t.Fatalf("the cancelled call: %v, want context.Canceled", err)
	}
	for deadline := time.Now().Add(testdeadline.Remaining(t)); f.Abandoned() == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the fleet did not see its caller go")
		}
	}

	call := func() error {
		_, err := lambdacaller.New(f.Client, f.Function).Call(ctx, jobspec.Request{JobPath: job.Path, ChunkIndex: 0})
		return err
	}
	var tmr *types.TooManyRequestsException
	if err := call(); !errors.As(err, &tmr) || f.Busy() != 1 {
		t.Fatalf("invoke while the abandoned function runs: %v (%d busy); want a TooManyRequestsException", err, f.Busy())
	}
	if err := job.open(1); err != nil {
		t.Fatal(err)
	}
	if !f.WaitBusy(0, testdeadline.Remaining(t)) {
		t.Fatal("the emulator stayed busy after its function ended")
	}
	if err := call(); err != nil {
		t.Fatalf("invoke once the emulator is free: %v", err)
	}
	if got := f.Invocations(); fmt.Sprint(got) != "[2]" || f.Throttled() != 1 {
		t.Errorf("invocations %v, %d refused; want [2] and 1", got, f.Throttled())
	}
	if out := f.Emulators[0].Output(); !strings.Contains(out, "released-1") {
		t.Errorf("the abandoned function did not run to its end:\n%s", f.Emulators[0].Report(4<<10, 8<<10))
	}
}

// Every request but an invoke and GetAccountSettings goes to the control
// plane; GetAccountSettings is the fleet's own; an invoke of another
// function is not found, and one by ARN with a qualifier runs.
func TestFleetControlPlane(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	control := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/configuration"):
			io.WriteString(w, `{"FunctionName":"render-worker","MemorySize":2048,"Architectures":["arm64"]}`)
		case strings.HasSuffix(r.URL.Path, "/concurrency"):
			io.WriteString(w, `{"ReservedConcurrentExecutions":3}`)
		default:
			w.Header().Set("X-Amzn-ErrorType", "UnknownOperationException")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"message":"not here"}`)
		}
	}))
	defer control.Close()
	f := startTestFleet(t, 1, control.URL, AccountSettings{ConcurrentExecutions: 50})
	ctx := testdeadline.Context(t)

	cfg, err := f.Client.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(fleetFunction)})
	if err != nil || aws.ToInt32(cfg.MemorySize) != 2048 || len(cfg.Architectures) != 1 || cfg.Architectures[0] != types.ArchitectureArm64 {
		t.Errorf("GetFunctionConfiguration = %+v, %v", cfg, err)
	}
	conc, err := f.Client.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: aws.String(fleetFunction)})
	if err != nil || aws.ToInt32(conc.ReservedConcurrentExecutions) != 3 {
		t.Errorf("GetFunctionConcurrency = %+v, %v", conc, err)
	}
	acct, err := f.Client.GetAccountSettings(ctx, &lambda.GetAccountSettingsInput{})
	if err != nil || acct.AccountLimit == nil || acct.AccountLimit.ConcurrentExecutions != 50 || aws.ToInt32(acct.AccountLimit.UnreservedConcurrentExecutions) != 1 {
		t.Errorf("GetAccountSettings = %+v, %v; want 50, of which the fleet's size, 1, unreserved", acct.AccountLimit, err)
	}
	mu.Lock()
	got := strings.Join(seen, ", ")
	mu.Unlock()
	if want := "GET /2015-03-31/functions/render-worker/configuration, GET /2019-09-30/functions/render-worker/concurrency"; got != want {
		t.Errorf("the control plane got %q, want %q", got, want)
	}

	job := writeGatedJob(t)
	_, err = lambdacaller.New(f.Client, "other-worker").Call(ctx, jobspec.Request{JobPath: job.Path})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("invoking another function: %v, want a ResourceNotFoundException", err)
	}
	res, err := lambdacaller.New(f.Client, "arn:aws:lambda:us-east-1:123456789012:function:"+fleetFunction+":prod").
		Call(ctx, jobspec.Request{JobPath: job.Path})
	if err != nil || !res.OK() || !strings.Contains(res.Stdout, "quick") {
		t.Errorf("invoking the function by ARN: %+v, %v", res, err)
	}
	if got := f.Invocations(); fmt.Sprint(got) != "[1]" {
		t.Errorf("invocations %v, want [1]", got)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
