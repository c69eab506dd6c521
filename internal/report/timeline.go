package report

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// The timeline's geometry, in CSS pixels. Lanes share at most
// maxPlotHeight, each between minLaneHeight and maxLaneHeight tall, so
// that 100 lanes still fit 600 px and no lane gets thinner than 3 px.
const (
	svgWidth      = 1000
	plotLeft      = 64 // room for the lane labels
	plotRight     = 28 // room for the last tick label
	plotTop       = 6
	axisHeight    = 34 // tick labels and the axis title
	maxPlotHeight = 600
	maxLaneHeight = 24
	minLaneHeight = 3
	labelSpacing  = 12 // the least room between two lane labels
	maxTicks      = 10
	maxTooltip    = 200 // runes of a reason in a tooltip
	gap           = 1   // between an attempt and the next in its lane; none below 2 px
)

// timeline is the SVG's content, in pixels, formatted.
type timeline struct {
	Width, Height, Lanes       int
	PlotX, PlotY, PlotW, PlotH int
	PlotRight, PlotBottom      int
	LabelX, TickY, AxisY       int
	Rects                      []rect
	Ticks                      []tick
	LaneLabels                 []laneLabel
	Other                      bool // some attempt's outcome is none of the Outcome constants
}

type rect struct {
	Chunk      int64
	Attempt    int
	Class      string
	X, Y, W, H string
	Title      string
}

type tick struct{ X, Label string }

type laneLabel struct{ Y, Label string }

// outcomeClasses are the CSS classes of the attempts' outcomes; the page's
// style gives each its colour.
var outcomeClasses = map[string]string{
	OutcomeOK: "o-ok", OutcomeRetried: "o-retried", OutcomeFailed: "o-failed",
	OutcomeLost: "o-lost", OutcomeKilled: "o-killed", OutcomeRunning: "o-running",
}

// newTimeline lays runs out: x is the time since the run started (or
// since the first attempt, if that was earlier), y the run's lane.
func newTimeline(d Data, runs []run) *timeline {
	if len(runs) == 0 {
		return nil
	}
	origin, last := runs[0].Start, d.Ended
	if !d.Started.IsZero() && d.Started.Before(origin) {
		origin = d.Started
	}
	lanes := 0
	for _, r := range runs {
		if r.end.After(last) {
			last = r.end
		}
		lanes = max(lanes, r.lane+1)
	}
	spanSec := last.Sub(origin).Seconds()
	if spanSec <= 0 {
		spanSec = 1
	}
	laneH := clamp(maxPlotHeight/lanes, minLaneHeight, maxLaneHeight)
	t := &timeline{
		Width: svgWidth, Lanes: lanes,
		PlotX: plotLeft, PlotY: plotTop, PlotW: svgWidth - plotLeft - plotRight, PlotH: lanes * laneH,
	}
	t.PlotRight, t.PlotBottom = t.PlotX+t.PlotW, t.PlotY+t.PlotH
	t.LabelX = t.PlotX - 6
	t.TickY, t.AxisY = t.PlotBottom+14, t.PlotBottom+30
	t.Height = t.PlotBottom + axisHeight
	x := func(at time.Time) float64 {
		return float64(t.PlotX) + at.Sub(origin).Seconds()/spanSec*float64(t.PlotW)
	}
	pad := laneH / 6
	for _, r := range runs {
		x0 := max(x(r.Start), float64(t.PlotX))
		class, ok := outcomeClasses[r.Outcome]
		if !ok {
			class, t.Other = "o-other", true
		}
		if r.Hedge {
			class += " hedge"
		}
		t.Rects = append(t.Rects, rect{
			Chunk: r.Chunk, Attempt: r.Attempt.Attempt, Class: class,
			X: px(x0), W: px(max(x(r.end)-x0-gap, 1)),
			Y: strconv.Itoa(t.PlotY + r.lane*laneH + pad), H: strconv.Itoa(laneH - 2*pad),
			Title: tooltip(r),
		})
	}
	t.Ticks = ticks(spanSec, func(s float64) float64 { return float64(t.PlotX) + s/spanSec*float64(t.PlotW) })
	t.LaneLabels = laneLabels(lanes, laneH, t.PlotY)
	return t
}

// tooltip is an attempt's SVG title: "chunk 3 attempt 1: ok, 1.23 s,
// frames 90–119", then whether it was a hedge and why it failed.
func tooltip(r run) string {
	s := fmt.Sprintf("chunk %d attempt %d: %s, %s", r.Chunk, r.Attempt.Attempt, r.Outcome, seconds(r.duration()))
	if f := frames(r.StartFrame, r.FrameCount); f != "" {
		s += ", " + f
	}
	if r.Hedge {
		s += ", hedge"
	}
	if r.Reason != "" {
		s += " — " + truncate(r.Reason, maxTooltip)
	}
	return s
}

// ticks returns the axis's ticks over [0, spanSec] seconds: a round step
// (1, 2 or 5 times a power of ten) giving at most maxTicks intervals.
func ticks(spanSec float64, x func(float64) float64) []tick {
	step := niceStep(spanSec / maxTicks)
	decimals := max(0, -int(math.Floor(math.Log10(step))))
	var ts []tick
	for i := 0; float64(i)*step <= spanSec*(1+1e-9); i++ {
		s := float64(i) * step
		ts = append(ts, tick{X: px(x(s)), Label: strconv.FormatFloat(s, 'f', decimals, 64) + " s"})
	}
	return ts
}

// niceStep returns the least of 1, 2 and 5 times a power of ten that is at
// least raw.
func niceStep(raw float64) float64 {
	if raw <= 0 || math.IsNaN(raw) || math.IsInf(raw, 0) {
		return 1
	}
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5} {
		if m*mag >= raw*(1-1e-9) {
			return m * mag
		}
	}
	return 10 * mag
}

// laneLabels labels the lanes "slot 1", "slot 2", ..., skipping lanes
// where they would be closer than labelSpacing.
func laneLabels(lanes, laneH, top int) []laneLabel {
	every := (labelSpacing + laneH - 1) / laneH
	var ls []laneLabel
	for l := 0; l < lanes; l += every {
		ls = append(ls, laneLabel{Y: px(float64(top) + (float64(l)+0.5)*float64(laneH)), Label: "slot " + strconv.Itoa(l+1)})
	}
	return ls
}

// px formats a coordinate with at most two decimals.
func px(v float64) string { return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) }
