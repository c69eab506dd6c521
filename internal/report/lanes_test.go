package report

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestAssignLanes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		spans [][2]float64 // start, end in seconds
		want  []int
		lanes int
	}{
		{"none", nil, []int{}, 0},
		{"one", [][2]float64{{0, 1}}, []int{0}, 1},
		{"in sequence share a lane", [][2]float64{{0, 1}, {1, 2}, {2, 3}}, []int{0, 0, 0}, 1},
		{"overlapping", [][2]float64{{0, 2}, {1, 3}, {1.5, 4}}, []int{0, 1, 2}, 3},
		{"the lowest free lane", [][2]float64{{0, 5}, {0, 1}, {0, 5}, {2, 3}}, []int{0, 1, 2, 1}, 3},
		{"lane 0 frees first but lane 1 is lower than a new one", [][2]float64{{0, 4}, {0, 1}, {2, 9}, {5, 6}}, []int{0, 1, 1, 0}, 2},
		{"shuffled, ties in input order", [][2]float64{{5, 6}, {2, 9}, {0, 1}, {0, 4}}, []int{1, 0, 0, 1}, 2},
		{"ties by start keep input order", [][2]float64{{0, 3}, {0, 2}, {0, 1}}, []int{0, 1, 2}, 3},
		{"zero length", [][2]float64{{1, 1}, {1, 1}, {1, 2}}, []int{0, 0, 0}, 1},
		{"end before start is an instant", [][2]float64{{3, 1}, {3, 4}}, []int{0, 0}, 1},
		{"a gap frees every lane", [][2]float64{{0, 1}, {0, 1}, {0, 1}, {2, 3}}, []int{0, 1, 2, 0}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spans := make([]span, len(tc.spans))
			for i, s := range tc.spans {
				spans[i] = span{at(s[0]), at(s[1])}
			}
			got, lanes := assignLanes(spans)
			if !slices.Equal(got, tc.want) || lanes != tc.lanes {
				t.Errorf("assignLanes = %v, %d lanes; want %v, %d", got, lanes, tc.want, tc.lanes)
			}
		})
	}
}

// TestAssignLanesPeak checks, over many attempts, that the lanes never hold
// two overlapping attempts and that their count is the peak concurrency.
func TestAssignLanesPeak(t *testing.T) {
	var spans []span
	for i := range 1000 {
		s := float64(i%100) + float64(i/100)*0.37
		spans = append(spans, span{at(s), at(s + 1 + float64(i%7))})
	}
	lanes, n := assignLanes(spans)
	peak := 0
	for _, s := range spans { // concurrency peaks at some start
		running := 0
		for _, o := range spans {
			if !o.start.After(s.start) && o.end.After(s.start) {
				running++
			}
		}
		peak = max(peak, running)
	}
	if n != peak {
		t.Errorf("%d lanes, want the peak concurrency %d", n, peak)
	}
	for i, a := range spans {
		for j, b := range spans {
			if i < j && lanes[i] == lanes[j] && a.start.Before(b.end) && b.start.Before(a.end) {
				t.Fatalf("spans %d and %d overlap in lane %d", i, j, lanes[i])
			}
		}
	}
}

// TestTimelineManyLanes: 1000 chunks at concurrency 100 fit 600 px (6 px
// lanes), and 1000 at once get lanes of 3 px, the least.
func TestTimelineManyLanes(t *testing.T) {
	for _, tc := range []struct {
		chunks, concurrency, laneH int
	}{
		{8, 4, 24},
		{1000, 100, 6},
		{1000, 1000, 3},
	} {
		t.Run(fmt.Sprintf("%d by %d", tc.chunks, tc.concurrency), func(t *testing.T) {
			d := Data{Started: t0, Ended: at(1000), Chunks: tc.chunks}
			for c := range tc.chunks {
				s := float64(c / tc.concurrency * 10)
				d.Attempts = append(d.Attempts, sampleAttempt(int64(c), 1, false, s, s+9.5, OutcomeOK, ""))
			}
			tl := newTimeline(d, resolve(d))
			if tl.Lanes != tc.concurrency || tl.PlotH != tc.concurrency*tc.laneH || len(tl.Rects) != tc.chunks {
				t.Errorf("%d lanes, %d px, %d rects; want %d lanes of %d px, %d rects",
					tl.Lanes, tl.PlotH, len(tl.Rects), tc.concurrency, tc.laneH, tc.chunks)
			}
			page, err := Render(d)
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(string(page), "data-chunk="); n != tc.chunks {
				t.Errorf("%d rects in the page, want %d", n, tc.chunks)
			}
		})
	}
}

func TestTicks(t *testing.T) {
	for _, tc := range []struct {
		span float64
		want string
	}{
		{25, "0 s,5 s,10 s,15 s,20 s,25 s"},
		{1, "0.0 s,0.1 s,0.2 s,0.3 s,0.4 s,0.5 s,0.6 s,0.7 s,0.8 s,0.9 s,1.0 s"},
		{0.37, "0.00 s,0.05 s,0.10 s,0.15 s,0.20 s,0.25 s,0.30 s,0.35 s"},
		{3600, "0 s,500 s,1000 s,1500 s,2000 s,2500 s,3000 s,3500 s"},
		{99, "0 s,10 s,20 s,30 s,40 s,50 s,60 s,70 s,80 s,90 s"},
	} {
		var labels []string
		for _, tk := range ticks(tc.span, func(s float64) float64 { return s }) {
			labels = append(labels, tk.Label)
		}
		if got := strings.Join(labels, ","); got != tc.want {
			t.Errorf("ticks(%v) = %s, want %s", tc.span, got, tc.want)
		}
	}
}
