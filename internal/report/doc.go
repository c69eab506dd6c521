// Package report writes the static HTML report of a render: the page that
// helios-scaffold run --report FILE.html leaves at the end of a run, and on
// interrupt.
//
// The page is one self-contained file. It needs no server and no network:
// its style is inline CSS, its timeline inline SVG, and it has no script,
// no font, no image and no link to fetch. [Render] returns it for a [Data],
// and is deterministic: the same Data gives the same bytes, since nothing
// in it reads the clock. [Write] renders into a file atomically (a
// temporary file in the same folder, synced, then renamed over the
// target), so that a run interrupted while writing leaves the old report
// or the new one, never half of one.
//
// Everything the page shows from the Data (the job's title, the message,
// each attempt's reason) is escaped by html/template: chunk commands and
// worker messages come from specs that nobody vetted.
//
// # What the page shows
//
// The header gives the job's title, its target, the run's outcome as a
// coloured badge (done, failed, budget, interrupted; any other word in
// grey), when it started and ended and its wall time, then counts: the
// spec's chunks, the chunks that ended ok and those that failed for good
// (a chunk with an ok attempt counts as ok only), the retried attempts,
// the hedges, the lost attempts, the chunks skipped because an earlier run
// did them, all attempts, and, when there are some, the killed and running
// attempts and the chunks not done.
//
// The timeline is an SVG 1000 px wide. Its x axis is the time since
// [Data.Started] (or since the first attempt, when that was earlier), in
// seconds, with round ticks (1, 2 or 5 times a power of ten, at most ten
// intervals). Its rows are worker slots: the attempts, taken by start
// (then chunk, then attempt number), each go into the lowest-numbered slot
// free at their start, so there are as many slots as attempts ever ran at
// once. Slots share 600 px, each 3 to 24 px tall: 1000 chunks run 100 at a
// time give 6 px slots, and beyond 200 slots the timeline grows by 3 px a
// slot. Each attempt is a rectangle coloured by its outcome:
//
//	ok               #2e7d32 green
//	retried          #ef6c00 orange
//	failed           #c62828 red
//	lost             #9e9e9e grey
//	killed, running  #6a1b9a purple
//	anything else    #37474f slate
//
// and a hedge (a backup attempt started for a straggler) is outlined with a
// dashed #1565c0 line. A rectangle stops 1 px short of its attempt's end
// (but is at least 1 px wide), so that attempts following each other in a
// slot stay apart. Each rectangle's tooltip (an SVG title) reads
// "chunk 3 attempt 1: ok, 1.23 s, frames 90–119", then ", hedge" for a
// hedge and the reason of a failure. Frame ranges include both ends: a
// chunk of FrameCount frames from StartFrame covers StartFrame to
// StartFrame+FrameCount-1. An attempt with no End (or one before its
// Start) is still in flight: it is drawn up to [Data.Ended]. Each
// rectangle carries data-chunk and data-attempt attributes, and nothing
// else on the page does. A legend follows the timeline. The badge colours
// differ from the outcome colours, so the outcome colours appear only in
// the timeline and its legend; with no attempts the page says "nothing
// ran" and has neither.
//
// Then come the figures: p50, p95 and the maximum of the successful
// attempts' durations (nearest rank: the p-th percentile of n sorted
// values is the value at rank ceil(p/100·n)), the worker time of all
// attempts added up, the bytes uploaded, downloaded and output by the ok
// attempts in binary units (KiB, MiB, ...; the exact count in a tooltip),
// the cost of the run and the estimate for the rest in dollars (4 decimals
// under $1, 2 from $1 up; an estimate of 0 reads "none"), and the price
// note.
//
// The slowest frame ranges are the 10 successful attempts that took the
// longest per frame: chunk, attempt, frames, duration and milliseconds per
// frame. The failures list every failed, retried and killed attempt by
// start, with its reason cut to 300 characters.
//
// Elements a test or a script may look for carry ids: outcome, target,
// started, ended, wall, message, n-chunks, n-ok, n-failed, n-retried,
// n-hedges, n-lost, n-skipped, n-attempts (and n-killed, n-running,
// n-not-done when shown), nothing-ran, p50, p95, max, worker-time,
// uploaded, downloaded, output, cost, estimate and price-note; the rows of
// the slowest ranges have class slow, those of the failures class failure.
package report
