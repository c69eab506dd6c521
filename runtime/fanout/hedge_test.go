package fanout_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/fanout"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// scripted is a Target whose answer for each call comes from a function
// of the request; it records the requests.
type scripted struct {
	mu   sync.Mutex
	reqs []jobspec.Request
	call func(ctx context.Context, req jobspec.Request) (*worker.CallResult, error)
}

func (s *scripted) Call(ctx context.Context, req jobspec.Request) (*worker.CallResult, error) {
	s.mu.Lock()
	s.reqs = append(s.reqs, req)
	s.mu.Unlock()
	return s.call(ctx, req)
}

// ok is a success that put the chunk's attempt's output in a bucket.
func ok(req jobspec.Request) *worker.CallResult {
	name := jobspec.AttemptName(fmt.Sprintf("out_part_%d.txt", req.ChunkIndex), req.Attempt)
	return &worker.CallResult{StatusCode: 200, HasExitCode: true, OutputURL: "s3://b/out/" + name, OutputBytes: 1}
}

// collect gathers a run's events.
type collect struct {
	mu     sync.Mutex
	events []fanout.Event
}

func (c *collect) add(e fanout.Event) { c.mu.Lock(); c.events = append(c.events, e); c.mu.Unlock() }

func (c *collect) of(kind string) []fanout.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	var es []fanout.Event
	for _, e := range c.events {
		if e.Kind == kind {
			es = append(es, e)
		}
	}
	return es
}

// A straggler's first attempt answers late (a remote call that ignores
// its cancellation, as a Lambda invoke's function runs on): its backup
// wins, the state records the backup's own object, and the late answer
// is told as lost, not recorded.
func TestHedgeBackupWins(t *testing.T) {
	dir := t.TempDir()
	job := writeJob(t, dir, 8, func(int) string { return "true" })
	target := &scripted{call: func(ctx context.Context, req jobspec.Request) (*worker.CallResult, error) {
		if req.ChunkIndex == 5 && req.Attempt == 0 {
			time.Sleep(time.Second) // deaf to ctx
		}
		return ok(req), nil
	}}
	state := openState(t, dir, job)
	var ev collect
	r := &fanout.Runner{Target: target, JobPath: job.Location, Concurrency: 2, State: state, Events: ev.add,
		Hedge: &fanout.Hedge{Factor: 2, Floor: 50 * time.Millisecond, After: 3}, Backoff: fastBackoff}
	sum, err := r.Run(t.Context(), job)
	if err != nil || !sum.Done() {
		t.Fatalf("Run = %+v, %v", sum, err)
	}
	if sum.Hedges != 1 || sum.HedgesWon != 1 || sum.Lost != 1 || sum.Retries != 0 {
		t.Errorf("hedges %d, won %d, lost %d, retries %d; want 1, 1, 1, 0", sum.Hedges, sum.HedgesWon, sum.Lost, sum.Retries)
	}
	if rec, _ := state.Done(5); rec.OutputURL != "s3://b/out/out_part_5.attempt-2.txt" || rec.Attempt != 2 || !rec.Hedge {
		t.Errorf("chunk 5 recorded as %+v, want the backup's own object, attempt 2, a hedge", rec)
	}
	state.Close()
	if rec, _ := openState(t, dir, job).Done(5); rec.Attempt != 2 || !rec.Hedge {
		t.Errorf("reopened, chunk 5's record is %+v: the winning attempt was not kept", rec)
	}
	lost := ev.of(fanout.EventLost)
	if len(lost) != 1 || lost[0].Chunk != 5 || lost[0].Attempt != 1 || lost[0].Hedge {
		t.Errorf("lost events %+v, want chunk 5's first attempt", lost)
	}
	var hedged []fanout.Event
	for _, e := range ev.of(fanout.EventStarted) {
		if e.Hedge {
			hedged = append(hedged, e)
		}
	}
	if len(hedged) != 1 || hedged[0].Chunk != 5 || hedged[0].Attempt != 2 || hedged[0].Reason == "" {
		t.Errorf("hedged starts %+v, want chunk 5's attempt 2 with its reason", hedged)
	}
	if !slices.ContainsFunc(target.reqs, func(r jobspec.Request) bool { return r.ChunkIndex == 5 && r.Attempt == 2 }) {
		t.Errorf("no request carried attempt 2: %+v", target.reqs)
	}
}

// Hedging off, or too few chunks finished to know what normal is, or a
// straggler younger than the floor: no backup.
func TestHedgeNotIssued(t *testing.T) {
	tests := []struct {
		name  string
		hedge *fanout.Hedge
	}{
		{"off", nil},
		{"too few finished", &fanout.Hedge{Factor: 2, Floor: time.Millisecond, After: 20}},
		{"under the floor", &fanout.Hedge{Factor: 2, Floor: time.Hour, After: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			job := writeJob(t, t.TempDir(), 6, func(int) string { return "true" })
			target := &scripted{call: func(ctx context.Context, req jobspec.Request) (*worker.CallResult, error) {
				if req.ChunkIndex == 4 {
					time.Sleep(300 * time.Millisecond)
				}
				return ok(req), nil
			}}
			sum, err := (&fanout.Runner{Target: target, JobPath: job.Location, Concurrency: 2, Hedge: tc.hedge}).Run(t.Context(), job)
			if err != nil || !sum.Done() || sum.Hedges != 0 || len(target.reqs) != 6 {
				t.Errorf("Run = %+v, %v with %d calls; want done, no hedge, 6 calls", sum, err, len(target.reqs))
			}
		})
	}
}

// Both attempts of a race fail: the first is told as retried while its
// rival goes on, the chunk is retried as usual, and a retry does not
// count the backup against --retries.
func TestHedgeBothFail(t *testing.T) {
	job := writeJob(t, t.TempDir(), 5, func(int) string { return "true" })
	target := &scripted{call: func(ctx context.Context, req jobspec.Request) (*worker.CallResult, error) {
		if req.ChunkIndex != 4 || req.Attempt >= 3 {
			return ok(req), nil
		}
		if req.Attempt == 0 {
			<-ctx.Done() // hangs until its rival ends the race, or the run does
			time.Sleep(200 * time.Millisecond)
		}
		return &worker.CallResult{StatusCode: 503, Message: "overloaded"}, nil
	}}
	var ev collect
	r := &fanout.Runner{Target: target, JobPath: job.Location, Concurrency: 1, Retries: 1, Backoff: fastBackoff, Events: ev.add,
		Hedge: &fanout.Hedge{Factor: 1, Floor: 20 * time.Millisecond, After: 2}, ChunkTimeout: 2 * time.Second}
	sum, err := r.Run(t.Context(), job)
	if err != nil || !sum.Done() || sum.Retries != 1 {
		t.Fatalf("Run = %+v, %v; want done after one retry", sum, err)
	}
	if n := len(ev.of(fanout.EventRetried)); n < 2 {
		t.Errorf("%d retried events, want the backup's failure and the first attempt's", n)
	}
}

// A run over budget stops starting chunks once the estimate passes it,
// and says by how much; the events carry the spend.
func TestBudgetStops(t *testing.T) {
	job := writeJob(t, t.TempDir(), 10, func(int) string { return "true" })
	target := &scripted{call: func(ctx context.Context, req jobspec.Request) (*worker.CallResult, error) { return ok(req), nil }}
	var ev collect
	r := &fanout.Runner{Target: target, JobPath: job.Location, Concurrency: 1, Events: ev.add,
		Cost: func(time.Duration) float64 { return 0.5 }, Budget: 2}
	sum, err := r.Run(t.Context(), job)
	if err != nil {
		t.Fatal(err)
	}
	if sum.OK != 1 || sum.NotRun != 9 || sum.SpentUSD != 0.5 || sum.EstimateUSD != 5 || sum.OverBudget != 3 {
		t.Errorf("Run = %+v; want 1 ok, 9 not run, $0.50 spent, $5 estimated, $3 over", sum)
	}
	fin := ev.of(fanout.EventFinished)
	if len(fin) != 1 || fin[0].SpentUSD != 0.5 || fin[0].RestUSD != 4.5 {
		t.Errorf("finished events %+v, want one with $0.50 spent and $4.50 to come", fin)
	}
}

// Local: a chunk hangs on its first attempt only; its backup renders it,
// the hung one is killed, the output is at its own name with nothing of
// the other attempt left, and the run ends long before the hang would.
func TestHedgeLocalStraggler(t *testing.T) {
	dir, marks, out := t.TempDir(), t.TempDir(), t.TempDir()
	job := writeJob(t, dir, 10, func(i int) string {
		hang := ""
		if i == 7 {
			m := filepath.Join(marks, "7")
			hang = fmt.Sprintf("if ! test -e %s; then touch %s; echo partial > \"$HELIOS_OUTPUT_FILE\"; exec sleep 600; fi; ", m, m)
		}
		return fmt.Sprintf(`sh -c '%secho chunk %d > "$HELIOS_OUTPUT_FILE"'`, hang, i)
	})
	cfg := worker.DefaultConfig()
	cfg.WorkspaceRoot = t.TempDir()
	l, err := fanout.NewLocal(job, fanout.LocalSetup{Config: cfg, Out: out, Options: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	state := openState(t, dir, job)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute) // the hang is ten
	defer cancel()
	r := &fanout.Runner{Target: l.Target, JobPath: l.JobPath, Concurrency: 2, State: state,
		Hedge: &fanout.Hedge{Factor: 3, Floor: 300 * time.Millisecond, After: 3}}
	sum, err := r.Run(ctx, job)
	if err != nil || !sum.Done() || sum.HedgesWon != 1 || sum.Lost != 1 {
		t.Fatalf("Run = %+v, %v; want done, with chunk 7's backup winning", sum, err)
	}
	if got, _ := os.ReadFile(filepath.Join(out, "out_part_7.txt")); string(got) != "chunk 7\n" {
		t.Errorf("out_part_7.txt = %q", got)
	}
	if rec, _ := state.Done(7); rec.OutputURL != "file://"+filepath.Join(out, "out_part_7.txt") {
		t.Errorf("chunk 7 recorded at %q", rec.OutputURL)
	}
	names, _ := filepath.Glob(filepath.Join(out, "*attempt*"))
	if len(names) != 0 {
		t.Errorf("attempt outputs left in the folder: %v", names)
	}
}

// openState opens a state file in dir for job, closed with the test.
func openState(t *testing.T, dir string, job *fanout.Job) *fanout.State {
	t.Helper()
	s, err := fanout.OpenState(t.Context(), filepath.Join(dir, "state"), job, fanout.StateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Attempts that all fail and are retried spend too: once the spend alone
// passes the budget, nothing more starts, though no chunk has finished
// to estimate from.
func TestBudgetCountsRetries(t *testing.T) {
	job := writeJob(t, t.TempDir(), 4, func(int) string { return "true" })
	target := &scripted{call: func(ctx context.Context, req jobspec.Request) (*worker.CallResult, error) {
		return &worker.CallResult{StatusCode: 503, Message: "overloaded"}, nil
	}}
	r := &fanout.Runner{Target: target, JobPath: job.Location, Concurrency: 1, Retries: 10, Backoff: fastBackoff,
		Cost: func(time.Duration) float64 { return 1 }, Budget: 2.5}
	sum, err := r.Run(t.Context(), job)
	if err != nil {
		t.Fatal(err)
	}
	if len(target.reqs) != 3 || sum.SpentUSD != 3 || sum.OverBudget != 0.5 || sum.OK != 0 || sum.NotRun != 4 {
		t.Errorf("Run = %+v after %d calls; want 3 calls ($3 spent, $0.50 over) and every chunk not run", sum, len(target.reqs))
	}
}

// With a Capacity, a straggler's backup waits until a call ends: the
// Target never has more calls than it takes (a reserved concurrency that
// would throttle the backup), and the backup still runs once a slot is
// idle at the end of the job.
func TestHedgeWithinCapacity(t *testing.T) {
	for _, capacity := range []int{0, 2} {
		t.Run(fmt.Sprint("capacity ", capacity), func(t *testing.T) {
			job := writeJob(t, t.TempDir(), 6, func(int) string { return "true" })
			var mu sync.Mutex
			inFlight, most := 0, 0
			target := &scripted{call: func(ctx context.Context, req jobspec.Request) (*worker.CallResult, error) {
				mu.Lock()
				inFlight++
				most = max(most, inFlight)
				mu.Unlock()
				defer func() { mu.Lock(); inFlight--; mu.Unlock() }()
				switch {
				case req.ChunkIndex == 3 && req.Attempt == 0:
					time.Sleep(time.Second) // deaf to ctx
				case req.ChunkIndex >= 4:
					time.Sleep(300 * time.Millisecond) // 4 then 5 in one slot: 0.3 s, then 0.6 s
				}
				return ok(req), nil
			}}
			r := &fanout.Runner{Target: target, JobPath: job.Location, Concurrency: 2, Capacity: capacity,
				Hedge: &fanout.Hedge{Factor: 1, Floor: 400 * time.Millisecond, After: 3}} // the bar: 0.4 s, above 4 and 5's 0.3 s
			sum, err := r.Run(t.Context(), job)
			if err != nil || !sum.Done() || sum.Hedges != 1 {
				t.Fatalf("Run = %+v, %v; want done with one hedge", sum, err)
			}
			if want := map[int]int{0: 3, 2: 2}[capacity]; most != want {
				t.Errorf("at most %d calls at once, want %d", most, want)
			}
		})
	}
}
