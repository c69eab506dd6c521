package cli

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/helios-project/helios-scaffold/internal/quota"
	"github.com/helios-project/helios-scaffold/internal/report"
	"github.com/helios-project/helios-scaffold/runtime/fanout"
	"github.com/helios-project/helios-scaffold/runtime/fanout/cost"
	"github.com/helios-project/helios-scaffold/runtime/store"
	"github.com/helios-project/helios-scaffold/runtime/worker/merge"
)

// childTransitions are the states a chunk's child execution enters in a
// Distributed Map when its first invoke answers: RenderChunk, the Choice
// and ChunkDone (or a Fail state).
const childTransitions = 3

// sfnHistory is what an execution's own history tells once it ended: its
// INLINE Map's iterations by index, the duration of every Lambda invoke
// it made, and the states it entered.
type sfnHistory struct {
	iterations  map[int32]*report.Attempt
	invokes     []time.Duration
	transitions int
	failed      bool // a page could not be read: what it holds is partial
}

// sfnHistoryPages bounds the history read of an execution: 20,000 events.
const sfnHistoryPages = 20

// readHistory reads the execution's history, at most sfnHistoryPages
// pages of it.
func readHistory(ctx context.Context, client *sfn.Client, arn string) sfnHistory {
	h := sfnHistory{iterations: map[int32]*report.Attempt{}}
	started := map[int64]time.Time{} // a TaskStarted event's id to its time
	pages := sfn.NewGetExecutionHistoryPaginator(client, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), MaxResults: 1000})
	for i := 0; pages.HasMorePages() && i < sfnHistoryPages; i++ {
		cctx, cancel := context.WithTimeout(ctx, sfnCallTimeout)
		page, err := pages.NextPage(cctx)
		cancel()
		if err != nil {
			h.failed = true
			return h
		}
		for _, e := range page.Events {
			h.event(e, started)
		}
	}
	return h
}

func (h *sfnHistory) event(e types.HistoryEvent, started map[int64]time.Time) {
	at := aws.ToTime(e.Timestamp)
	if strings.HasSuffix(string(e.Type), "StateEntered") {
		h.transitions++
	}
	switch e.Type {
	case types.HistoryEventTypeTaskStarted:
		started[e.Id] = at
	case types.HistoryEventTypeTaskSucceeded, types.HistoryEventTypeTaskFailed, types.HistoryEventTypeTaskTimedOut:
		if t, ok := started[e.PreviousEventId]; ok && !at.Before(t) {
			h.invokes = append(h.invokes, at.Sub(t))
		}
	case types.HistoryEventTypeMapIterationStarted:
		if d := e.MapIterationStartedEventDetails; d != nil {
			h.iterations[d.Index] = &report.Attempt{Attempt: 1, Start: at, Outcome: report.OutcomeRunning}
		}
	case types.HistoryEventTypeMapIterationSucceeded, types.HistoryEventTypeMapIterationFailed, types.HistoryEventTypeMapIterationAborted:
		d := e.MapIterationSucceededEventDetails
		out := report.OutcomeOK
		if e.Type == types.HistoryEventTypeMapIterationFailed {
			d, out = e.MapIterationFailedEventDetails, report.OutcomeFailed
		} else if e.Type == types.HistoryEventTypeMapIterationAborted {
			d, out = e.MapIterationAbortedEventDetails, report.OutcomeKilled
		}
		if d == nil {
			return
		}
		if a := h.iterations[d.Index]; a != nil {
			a.End, a.Outcome = at, out
		}
	}
}

// sfnOutcome is what the execution did, read once it ended: an attempt
// per chunk for the report (a child of its Distributed Map, from the
// ResultWriter export that output names, or an iteration of an INLINE
// one, from the history), and the summary, priced from the worker's
// size and Step Functions' transitions. A Distributed Map's failed
// execution has no output to name its export: its chunks are counted
// from the Map Run, and their time is not known.
func (p *runPlan) sfnOutcome(ctx context.Context, client *sfn.Client, results store.Source, arn, output string, rec *recorder) *fanout.Summary {
	h := readHistory(ctx, client, arn)
	s := &fanout.Summary{Chunks: len(p.job.Spec.Chunks)}
	worker := h.invokes // each invoke's time: every chunk's of an INLINE Map, the merge's
	transitions := h.transitions
	switch children := mapChildren(ctx, results, output); {
	case children != nil:
		worker = append(worker, p.childrenOutcome(children, s, rec)...)
		transitions += childTransitions * (s.OK + s.Failed)
	case len(h.iterations) > 0:
		p.iterationsOutcome(h.iterations, s, rec)
	default:
		if e := p.mapRunCounts(ctx, client, arn); e.Chunks > 0 {
			s.OK, s.Failed = int(e.Succeeded), int(e.Failed)
			transitions += childTransitions * (s.OK + s.Failed)
			p.unpriced = "the chunks' Lambda time is not known: the failed execution's output names no ResultWriter export"
		}
	}
	m, priced := p.sfnModel(ctx)
	for _, d := range worker {
		s.WorkerSum += d
		if priced {
			s.SpentUSD += m.Attempt(d)
		}
	}
	s.SpentUSD += float64(transitions) * p.prices.StepFunctionsTransition
	s.EstimateUSD = s.SpentUSD
	s.NotRun = max(0, s.Chunks-s.OK-s.Failed)
	return s
}

// childrenOutcome counts the children of a Distributed Map into s and
// rec, and returns the time of each that ran: its span, or, for one
// redriven (whose span holds the wait for the redrive), the command's
// time as its worker measured it.
func (p *runPlan) childrenOutcome(children []merge.Child, s *fanout.Summary, rec *recorder) []time.Duration {
	var times []time.Duration
	for _, c := range children {
		if c.Status == "PENDING" { // never ran: the Map Run stopped first
			continue
		}
		a := report.Attempt{Chunk: c.Chunk, Attempt: 1, Start: c.Start, End: c.Stop, Outcome: report.OutcomeFailed, Reason: c.Why}
		ok := c.Status == "SUCCEEDED" && c.Answer != nil && c.Answer.StatusCode == 200
		if ok {
			a.Outcome, a.Reason = report.OutcomeOK, ""
			s.OK++
		} else {
			s.Failed++
		}
		d := c.Stop.Sub(c.Start)
		switch {
		case c.Redriven && c.Answer != nil && c.Answer.DurationMS > 0:
			d = time.Duration(c.Answer.DurationMS) * time.Millisecond
			a.Start = c.Stop.Add(-d)
		case c.Redriven, c.Start.IsZero(), d <= 0:
			continue
		}
		if ok {
			s.ChunkTimes = append(s.ChunkTimes, d)
		}
		times = append(times, d)
		rec.add(a)
	}
	return times
}

// iterationsOutcome counts an INLINE Map's iterations into s and rec.
func (p *runPlan) iterationsOutcome(iterations map[int32]*report.Attempt, s *fanout.Summary, rec *recorder) {
	ids := chunkIDs(p.job)
	for i, a := range iterations {
		if int(i) >= len(ids) {
			continue
		}
		a.Chunk = ids[i]
		switch a.Outcome {
		case report.OutcomeOK:
			s.OK++
			if a.End.After(a.Start) {
				s.ChunkTimes = append(s.ChunkTimes, a.End.Sub(a.Start))
			}
		case report.OutcomeFailed:
			s.Failed++
		}
		rec.add(*a)
	}
}

// mapChildren are the children of the execution's Distributed Map, from
// the ResultWriter export that its output names; nil when it names none
// (an INLINE Map, a failed execution) or the export cannot be read.
func mapChildren(ctx context.Context, results store.Source, output string) []merge.Child {
	var out struct {
		Map struct {
			ResultWriterDetails struct{ Bucket, Key string }
		}
	}
	if json.Unmarshal([]byte(output), &out) != nil || out.Map.ResultWriterDetails.Key == "" {
		return nil
	}
	url := "s3://" + out.Map.ResultWriterDetails.Bucket + "/" + out.Map.ResultWriterDetails.Key
	mr, err := merge.ReadMapResults(ctx, results, url)
	if err != nil {
		return nil
	}
	return mr.Children
}

// sfnModel prices the worker's calls: its size from the answers, else
// from the function's configuration.
func (p *runPlan) sfnModel(ctx context.Context) (cost.Model, bool) {
	if m, ok := p.model(); ok {
		return m, true
	}
	cfg, err := p.sfnConfig(ctx)
	if err != nil {
		return cost.Model{}, false
	}
	ctx, cancel := context.WithTimeout(ctx, sfnCallTimeout)
	defer cancel()
	lim, err := quota.Lambda(ctx, lambda.NewFromConfig(cfg), p.function)
	if err == nil && lim.Worker.Check() == nil {
		p.worker = lim.Worker
	}
	return p.model()
}
