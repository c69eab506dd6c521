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
	complete    bool // every page was read
}

// readHistory reads the execution's history, at most sfnHistoryPages
// pages of it.
func readHistory(ctx context.Context, client *sfn.Client, arn string) sfnHistory {
	h := sfnHistory{iterations: map[int32]*report.Attempt{}}
	started := map[int64]time.Time{} // a TaskStarted event's id to its time
	pages := sfn.NewGetExecutionHistoryPaginator(client, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), MaxResults: 1000})
	for i := 0; pages.HasMorePages(); i++ {
		if i == sfnHistoryPages {
			return h
		}
		cctx, cancel := context.WithTimeout(ctx, sfnCallTimeout)
		page, err := pages.NextPage(cctx)
		cancel()
		if err != nil {
			return h
		}
		for _, e := range page.Events {
			h.event(e, started)
		}
	}
	h.complete = true
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
// size and Step Functions' transitions.
func (p *runPlan) sfnOutcome(ctx context.Context, client *sfn.Client, results store.Source, arn, output string, rec *recorder) *fanout.Summary {
	h := readHistory(ctx, client, arn)
	s := &fanout.Summary{Chunks: len(p.job.Spec.Chunks)}
	m, priced := p.sfnModel(ctx)
	var worker []time.Duration // each invoke's or child's time
	transitions := h.transitions
	if children := mapChildren(ctx, results, output); children != nil {
		for _, c := range children {
			a := report.Attempt{Chunk: c.Chunk, Attempt: 1, Start: c.Start, End: c.Stop, Outcome: report.OutcomeFailed, Reason: c.Why}
			switch {
			case c.Status == "PENDING": // never ran: the Map Run stopped first
				continue
			case c.Status == "SUCCEEDED" && c.Answer != nil && c.Answer.StatusCode == 200:
				a.Outcome, a.Reason = report.OutcomeOK, ""
				s.OK++
				s.ChunkTimes = append(s.ChunkTimes, c.Stop.Sub(c.Start))
			default:
				s.Failed++
			}
			if !c.Start.IsZero() && c.Stop.After(c.Start) {
				worker = append(worker, c.Stop.Sub(c.Start))
				rec.add(a)
			}
			transitions += childTransitions
		}
		worker = append(worker, h.invokes...) // the merge
	} else {
		ids := chunkIDs(p.job)
		for i, a := range h.iterations {
			if int(i) >= len(ids) {
				continue
			}
			a.Chunk = ids[i]
			switch a.Outcome {
			case report.OutcomeOK:
				s.OK++
				s.ChunkTimes = append(s.ChunkTimes, a.End.Sub(a.Start))
			case report.OutcomeFailed:
				s.Failed++
			}
			rec.add(*a)
		}
		worker = h.invokes
	}
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
