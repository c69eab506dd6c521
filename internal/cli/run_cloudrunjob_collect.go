package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	runapi "google.golang.org/api/run/v2"

	"github.com/helios-project/helios-scaffold/internal/report"
	"github.com/helios-project/helios-scaffold/runtime/fanout"
)

// finish collects the outputs that the execution final put (nil when
// none was needed) as --collect-only does, records those that hold up,
// prints the summary, names what failed, and merges when nothing did.
func (x *jobExec) finish(it *interrupts, final *runapi.GoogleCloudRunV2Execution) error {
	p, ctx := x.p, it.ctx
	var tasks []*runapi.GoogleCloudRunV2Task
	if final != nil {
		tasks = x.listTasks(ctx)
	}
	newly, bad, fetched, err := x.collect(ctx, final, tasks)
	if err != nil {
		return x.stopped(it, err)
	}
	removeAttachment(p.attachPath(), x.att.Execution) // collected: nothing is left to follow
	held := x.failedTasks(final, tasks)
	for _, b := range bad {
		why := b.Why
		if t := held[b.Chunk]; t != "" {
			why = t + "; " + why
		}
		x.event(fanout.Event{Time: time.Now(), Kind: fanout.EventFailed, Chunk: b.Chunk, Reason: why})
	}
	x.sum = x.summary(it.ctx, final, tasks, len(newly))
	x.prog.finish()
	x.prog.summary(x.stdout, runTotals{sum: x.sum, uploaded: x.uploaded, fetched: fetched, wall: time.Since(x.began), start: x.began}, x.priceNote(it.ctx))
	if err := x.failure(final, tasks, bad); err != nil {
		return err
	}
	if code := it.exitCode(); code != 0 {
		return exitError{code: code, err: fmt.Errorf("interrupted: every output is collected (state in %s); the same command merges", p.state)}
	}
	if p.o.noMerge || p.job.Spec.MergeCommand == "" {
		return nil
	}
	return p.merge(ctx, x.prog, x.stdout, x.stderr)
}

// collect downloads every chunk's output into --out (a recorded one
// proven by its SHA-256, the others by the store's checksum), checks
// those not recorded as video, and records those that hold up. Outputs
// that the execution did not write (still at the version they had
// before it started) count as missing. It returns the outputs recorded
// now, those missing or not holding up, and the bytes downloaded.
func (x *jobExec) collect(ctx context.Context, final *runapi.GoogleCloudRunV2Execution, tasks []*runapi.GoogleCloudRunV2Task) (
	[]fanout.Output, []fanout.BadOutput, int64, error) {
	p := x.p
	records := x.state.Records()
	var outs []fanout.Output
	for _, o := range fanout.Expected(p.job, x.att.Outputs) {
		if r, ok := records[o.Chunk]; ok {
			o.URL, o.Bytes, o.SHA256 = r.OutputURL, r.Bytes, r.SHA256
		}
		outs = append(outs, o)
	}
	var bad []fanout.BadOutput
	if len(x.att.Stale) > 0 {
		now, err := x.listed(ctx, x.att.Outputs, x.att.Chunks)
		if err != nil {
			return nil, nil, 0, err
		}
		var fresh []fanout.Output
		for _, o := range outs {
			if _, done := records[o.Chunk]; !done && x.att.Stale[o.URL] != "" && now[o.URL] == x.att.Stale[o.URL] {
				bad = append(bad, fanout.BadOutput{Output: o, Missing: true, Why: o.URL + " is from before execution " +
					shortName(x.att.Execution) + ", which did not write it"})
				continue
			}
			fresh = append(fresh, o)
		}
		outs = fresh
	}
	fanout.RemoveTemps(p.out, outs)
	missing, fetched, err := p.download(ctx, x.st, outs, x.prog)
	if err != nil {
		return nil, nil, fetched, err
	}
	bad = append(bad, missing...)
	unproven := map[int64]bool{}
	for _, b := range bad {
		unproven[b.Chunk] = true
	}
	var present []fanout.Output
	for _, o := range outs {
		if _, done := records[o.Chunk]; !done && !unproven[o.Chunk] {
			present = append(present, o)
		}
	}
	videos, err := p.verify(ctx, present, x.prog)
	if err != nil {
		return nil, bad, fetched, err
	}
	for _, b := range videos {
		unproven[b.Chunk] = true
	}
	var newly []fanout.Output
	for _, o := range present {
		if unproven[o.Chunk] {
			continue
		}
		sum, n, err := fileDigest(filepath.Join(p.out, filepath.FromSlash(o.File)))
		if err == nil {
			err = x.state.Add(fanout.Record{Chunk: o.Chunk, OutputURL: o.URL, Bytes: n, SHA256: sum})
		}
		if err != nil {
			return newly, bad, fetched, fmt.Errorf("recording chunk %d: %w", o.Chunk, err)
		}
		x.event(fanout.Event{Time: time.Now(), Kind: fanout.EventFinished, Chunk: o.Chunk, OutputURL: o.URL, Bytes: n})
		newly = append(newly, o)
	}
	// A chunk without an outputFile is done when its task succeeded.
	ok := x.succeededChunks(final, tasks)
	for _, c := range p.job.Spec.Chunks {
		if _, done := records[c.ID]; !done && c.OutputFile == "" && ok[c.ID] {
			if err := x.state.Add(fanout.Record{Chunk: c.ID}); err != nil {
				return newly, bad, fetched, fmt.Errorf("recording chunk %d: %w", c.ID, err)
			}
			newly = append(newly, fanout.Output{Chunk: c.ID})
		}
	}
	return newly, append(bad, videos...), fetched, nil
}

// listed lists the folder (and the folders below it that outputs go
// to) and returns the version of each output of chunks there now.
func (x *jobExec) listed(ctx context.Context, folder string, chunks []int64) (map[string]string, error) {
	want := map[string]bool{}
	for _, o := range fanout.Expected(x.p.job.Only(chunks), folder) {
		want[o.URL] = true
	}
	b, err := x.st.bucket(folder)
	if err != nil {
		return nil, err
	}
	list, err := b.List(ctx, folder)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", folder, err)
	}
	found := map[string]string{}
	for _, obj := range list {
		if u := folder + "/" + obj.Path; want[u] {
			found[u] = obj.Version
		}
	}
	return found, nil
}

// succeededChunks are the chunks that the execution's succeeded tasks
// rendered: all of them when it succeeded.
func (x *jobExec) succeededChunks(final *runapi.GoogleCloudRunV2Execution, tasks []*runapi.GoogleCloudRunV2Task) map[int64]bool {
	ok := map[int64]bool{}
	switch {
	case final == nil:
	case succeeded(final):
		for _, id := range x.att.Chunks {
			ok[id] = true
		}
	default:
		for _, t := range tasks {
			if c := conditionOf(t.Conditions, "Completed"); c != nil && c.State == "CONDITION_SUCCEEDED" {
				for _, id := range chunksOfTask(x.att.Chunks, int(t.Index), int(final.TaskCount)) {
					ok[id] = true
				}
			}
		}
	}
	return ok
}

// failure says why the render is not merged: the execution failed
// (naming its failed tasks and the chunks they held), or outputs are
// missing or not the video their chunks render; nil when nothing is.
func (x *jobExec) failure(final *runapi.GoogleCloudRunV2Execution, tasks []*runapi.GoogleCloudRunV2Task, bad []fanout.BadOutput) error {
	p := x.p
	var missing, videos []fanout.BadOutput
	for _, b := range bad {
		if b.Video {
			videos = append(videos, b)
		} else {
			missing = append(missing, b)
		}
	}
	left := fmt.Sprintf("the %d other outputs are collected in %s and recorded in %s: the same command starts an execution of the %s left",
		len(p.job.Spec.Chunks)-len(bad), p.out, p.state, counted(len(bad), "chunk"))
	if final != nil && !succeeded(final) {
		cancelled := ""
		if final.CancelledCount > 0 {
			cancelled = fmt.Sprintf(", %d cancelled", final.CancelledCount)
		}
		lines := []string{fmt.Sprintf("execution %s failed: %d of %d tasks failed for good%s (their logs: %s):",
			final.Name, final.FailedCount, final.TaskCount, cancelled, x.att.Console)}
		for _, t := range tasks {
			if why, failed := taskFailure(t); failed {
				lines = append(lines, fmt.Sprintf("task %d (chunks %v): %s", t.Index, chunksOfTask(x.att.Chunks, int(t.Index), int(final.TaskCount)), why))
			}
		}
		if tasks == nil {
			lines = append(lines, "which tasks failed is unknown: listing them needs run.tasks.list")
		}
		if err := badOutputsError(missing, len(p.job.Spec.Chunks)); err != nil {
			lines = append(lines, strings.TrimPrefix(err.Error(), fanout.ErrMissing.Error()+": "))
		}
		if err := badVideosError(videos, len(p.job.Spec.Chunks)); err != nil {
			lines = append(lines, err.Error())
		}
		return fmt.Errorf("%w: %s\n%s", errChunksFailed, strings.Join(lines, "\n"), left)
	}
	if err := badOutputsError(missing, len(p.job.Spec.Chunks)); err != nil {
		return fmt.Errorf("%w; %s", err, left)
	}
	return badVideosError(videos, len(p.job.Spec.Chunks))
}

// failedTasks says, for each chunk of a task of final that failed, how
// it failed.
func (x *jobExec) failedTasks(final *runapi.GoogleCloudRunV2Execution, tasks []*runapi.GoogleCloudRunV2Task) map[int64]string {
	held := map[int64]string{}
	for _, t := range tasks {
		if why, failed := taskFailure(t); failed && final != nil {
			for _, id := range chunksOfTask(x.att.Chunks, int(t.Index), int(final.TaskCount)) {
				held[id] = fmt.Sprintf("task %d failed (%s)", t.Index, why)
			}
		}
	}
	return held
}

// counted is n things, as people write it: "1 chunk", "2 chunks".
func counted(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// taskFailure says how task t failed for good, and false when it did not.
func taskFailure(t *runapi.GoogleCloudRunV2Task) (string, bool) {
	c := conditionOf(t.Conditions, "Completed")
	if c == nil || c.State != "CONDITION_FAILED" {
		return "", false
	}
	if c.ExecutionReason == "CANCELLED" {
		return "cancelled", true
	}
	why := c.Message
	if r := t.LastAttemptResult; r != nil && r.TermSignal != 0 {
		why = fmt.Sprintf("killed by signal %d", r.TermSignal)
	} else if r != nil && r.ExitCode != 0 {
		why = fmt.Sprintf("exit code %d", r.ExitCode)
	}
	return fmt.Sprintf("%s, after %d attempts", why, t.Retried+1), true
}

// summary is what the run did: the chunks collected now and before, the
// tasks' retries, time and cost (each task's last attempt, from its
// start to its completion).
func (x *jobExec) summary(ctx context.Context, final *runapi.GoogleCloudRunV2Execution, tasks []*runapi.GoogleCloudRunV2Task, newly int) *fanout.Summary {
	s := &fanout.Summary{Chunks: len(x.p.job.Spec.Chunks), OK: newly, Skipped: x.before}
	s.Failed = s.Chunks - s.OK - s.Skipped
	m, priced := x.model(ctx)
	for _, t := range tasks {
		s.Retries += int(t.Retried)
		start, err1 := time.Parse(time.RFC3339Nano, t.StartTime)
		end, err2 := time.Parse(time.RFC3339Nano, t.CompletionTime)
		if err1 != nil || err2 != nil || end.Before(start) {
			continue
		}
		d := end.Sub(start)
		s.WorkerSum += d
		if priced {
			s.SpentUSD += m.Attempt(d)
		}
		var ids []int64
		if final != nil {
			ids = chunksOfTask(x.att.Chunks, int(t.Index), int(final.TaskCount))
		}
		outcome := report.OutcomeFailed
		if c := conditionOf(t.Conditions, "Completed"); c != nil && c.State == "CONDITION_SUCCEEDED" {
			outcome = report.OutcomeOK
			for range ids {
				s.ChunkTimes = append(s.ChunkTimes, d/time.Duration(len(ids)))
			}
		}
		if len(ids) > 0 { // the report draws a task as an attempt of its first chunk
			x.rec.add(report.Attempt{Chunk: ids[0], Attempt: int(t.Retried) + 1, Start: start, End: end, Outcome: outcome,
				Reason: fmt.Sprintf("task %d of %d, chunks %v", t.Index, final.TaskCount, ids)})
		}
	}
	s.EstimateUSD = s.SpentUSD
	return s
}

// fileDigest is the hex SHA-256 and size of the file at name.
func fileDigest(name string) (string, int64, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	return hex.EncodeToString(h.Sum(nil)), n, err
}

// add records a, an attempt that no event told.
func (r *recorder) add(a report.Attempt) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts = append(r.attempts, a)
}
