package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/helios-project/helios-scaffold/generator"
	"github.com/helios-project/helios-scaffold/internal/report"
	"github.com/helios-project/helios-scaffold/runtime/fanout"
	"github.com/helios-project/helios-scaffold/runtime/fanout/probe"
	"github.com/helios-project/helios-scaffold/runtime/fanout/webhook"
)

// envWebhookSecret is where --webhook-secret is read from when the flag
// is not given.
const envWebhookSecret = "HELIOS_WEBHOOK_SECRET"

// errOverBudget is a run that --budget stopped.
var errOverBudget = errors.New("over budget")

// resolveEnd checks what happens when the run ends (--webhook, --report)
// and finds ffprobe for the video checks.
func (p *runPlan) resolveEnd() error {
	o := p.o
	if o.webhook == "" && o.webhookSecret != "" {
		return usageError{errors.New("--webhook-secret without --webhook")}
	}
	if o.webhookSecret == "" {
		o.webhookSecret = os.Getenv(envWebhookSecret)
	}
	if o.webhook != "" {
		if err := webhook.Check(o.webhook, []byte(o.webhookSecret)); err != nil {
			return usageError{fmt.Errorf("--webhook: %w (the secret comes from --webhook-secret or $%s)", err, envWebhookSecret)}
		}
	}
	if o.report != "" {
		abs, err := filepath.Abs(o.report)
		if err != nil {
			return usageError{err}
		}
		if info, err := os.Stat(filepath.Dir(abs)); err != nil || !info.IsDir() {
			return usageError{fmt.Errorf("--report %s: its folder %s is not there", o.report, filepath.Dir(abs))}
		}
		if info, err := os.Stat(abs); err == nil && info.IsDir() {
			return usageError{fmt.Errorf("--report %s: a folder", o.report)}
		}
		o.report = abs
	}
	if !o.noVerify {
		if pr, ok := probe.Find(); ok {
			p.ffprobe = &pr
		}
	}
	return nil
}

// outcome is how the run ended, as the webhook and the report say it.
func outcome(code int, sum *fanout.Summary, err error) string {
	switch {
	case code != 0:
		return webhook.EventInterrupted
	case errors.Is(err, errOverBudget):
		return webhook.EventBudget
	case err == nil && sum != nil:
		return webhook.EventDone
	}
	return webhook.EventFailed
}

// overBudget says how far the estimate passed --budget, and what to do.
func (p *runPlan) overBudget(sum *fanout.Summary) error {
	return fmt.Errorf("%w: stopped starting chunks at %d of %d done: the whole job is estimated at %s (%s spent in this run), "+
		"%s more than --budget %s; the same command with --budget %.2f or more goes on from there (state in %s)",
		errOverBudget, sum.OK+sum.Skipped, sum.Chunks, usd(sum.EstimateUSD), usd(sum.SpentUSD), usd(sum.OverBudget),
		usd(p.o.budget), sum.EstimateUSD+0.005, p.state)
}

// ended tells of the run's end: the report written, the webhook sent.
// Neither changes the exit code: the video is what it is; a failure is
// a warning on stderr.
func (p *runPlan) ended(ctx context.Context, rec *recorder, t runTotals, err error, code int, stderr io.Writer) {
	out := outcome(code, t.sum, err)
	if p.o.report != "" {
		if werr := report.Write(p.o.report, p.reportData(rec, t, out, err)); werr != nil {
			fmt.Fprintf(stderr, "helios-scaffold: warning: writing the report: %v\n", werr)
		} else {
			fmt.Fprintf(stderr, "report: %s\n", p.o.report)
		}
	}
	if p.o.webhook == "" {
		return
	}
	// An interrupted run still tells, within half a minute; a signal
	// while it tells stops it.
	limit := 3 * time.Minute
	if code != 0 {
		limit = 30 * time.Second
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), limit)
	defer cancel()
	if ctx.Err() == nil {
		defer context.AfterFunc(ctx, cancel)()
	}
	ctx = wctx
	s := &webhook.Sender{URL: p.o.webhook, Secret: []byte(p.o.webhookSecret), UserAgent: "helios-scaffold/" + generator.Version()}
	if serr := s.Send(ctx, p.payload(t, out, err)); serr != nil {
		fmt.Fprintf(stderr, "helios-scaffold: warning: the webhook was not delivered: %v\n", serr)
	}
}

// payload is the webhook's body for a run that ended as out.
func (p *runPlan) payload(t runTotals, out string, err error) webhook.Payload {
	pl := webhook.Payload{Event: out, Job: p.job.Name(), JobPath: p.job.Location, Target: p.target, Chunks: len(p.job.Spec.Chunks),
		WallMS: t.wall.Milliseconds(), State: p.state, Time: time.Now().UTC(),
		DeliveryID: webhook.DeliveryID(p.state, out, t.start)}
	if s := t.sum; s != nil {
		pl.OK, pl.Failed, pl.Skipped, pl.NotRun, pl.Retries, pl.Hedges = s.OK, s.Failed, s.Skipped, s.NotRun, s.Retries, s.Hedges
		pl.CostUSD, pl.EstimateUSD = s.SpentUSD, s.EstimateUSD
	}
	if err != nil {
		pl.Message = firstLine(err.Error())
	}
	if out == webhook.EventDone {
		pl.Output = p.mergedFile()
	}
	return pl
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// recorder keeps every attempt of the run from its events, for the
// report.
type recorder struct {
	mu       sync.Mutex
	attempts []report.Attempt
	open     map[[2]int64]int // (chunk, attempt) to its index while in flight
}

func newRecorder() *recorder { return &recorder{open: map[[2]int64]int{}} }

// ends are the outcomes of the events that end an attempt.
var ends = map[string]string{
	fanout.EventFinished: report.OutcomeOK, fanout.EventRetried: report.OutcomeRetried,
	fanout.EventFailed: report.OutcomeFailed, fanout.EventLost: report.OutcomeLost, fanout.EventKilled: report.OutcomeKilled,
}

func (r *recorder) event(e fanout.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := [2]int64{e.Chunk, int64(e.Attempt)}
	if e.Kind == fanout.EventStarted {
		r.open[key] = len(r.attempts)
		r.attempts = append(r.attempts, report.Attempt{Chunk: e.Chunk, Attempt: e.Attempt, Hedge: e.Hedge, Start: e.Time,
			Outcome: report.OutcomeRunning})
		return
	}
	i, ok := r.open[key]
	if out, ends := ends[e.Kind]; ok && ends {
		a := &r.attempts[i]
		a.End, a.Outcome, a.Reason, a.Bytes = e.Time, out, e.Reason, e.Bytes
		delete(r.open, key)
	}
}

// priceNote says how calls are priced: "" when they are not.
func (p *runPlan) priceNote() string {
	m, ok := p.model()
	note := ""
	if ok {
		note = m.Describe()
	}
	if p.target == targetAWS && p.o.attach != "" { // a Step Functions execution
		sf := fmt.Sprintf("Step Functions state transitions at $%g per 1,000", p.prices.StepFunctionsTransition*1000)
		if !ok {
			return "the worker's size is unknown, so its time is not priced; " + sf
		}
		note += "; " + sf
		if p.unpriced != "" {
			note += "; " + p.unpriced
		}
	}
	return note
}

// reportData is what the report shows of a run that ended as out.
func (p *runPlan) reportData(rec *recorder, t runTotals, out string, err error) report.Data {
	d := report.Data{Title: p.job.Name(), Target: p.target, Outcome: out, Started: t.start, Ended: t.start.Add(t.wall),
		Chunks: len(p.job.Spec.Chunks), UploadedBytes: t.uploaded, DownloadedBytes: t.fetched, PriceNote: p.priceNote()}
	if err != nil {
		d.Message = firstLine(err.Error())
	}
	if s := t.sum; s != nil {
		d.Skipped, d.CostUSD, d.EstimateUSD = s.Skipped, s.SpentUSD, max(s.EstimateUSD-s.SpentUSD, 0)
	}
	frames := map[int64][2]int64{}
	for _, c := range p.job.Spec.Chunks {
		frames[c.ID] = [2]int64{c.StartFrame, c.FrameCount}
	}
	m, priced := p.model()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, a := range rec.attempts {
		f := frames[a.Chunk]
		a.StartFrame, a.FrameCount = f[0], f[1]
		if priced && !a.End.IsZero() {
			a.CostUSD = m.Attempt(a.End.Sub(a.Start))
		}
		d.Attempts = append(d.Attempts, a)
	}
	return d
}
