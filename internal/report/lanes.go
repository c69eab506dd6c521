package report

import (
	"cmp"
	"slices"
	"time"
)

// span is the time an attempt held a worker slot.
type span struct{ start, end time.Time }

// assignLanes puts each span into a lane, greedily: taking the spans by
// start (ties in input order), each goes into the lowest-numbered lane that
// is free at its start, that is whose last span ended at or before it. It
// returns each span's lane, in input order, and the number of lanes, which
// is the peak number of spans running at once.
func assignLanes(spans []span) ([]int, int) {
	order := make([]int, len(spans))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return spans[a].start.Compare(spans[b].start) })
	lanes := make([]int, len(spans))
	var busyUntil []time.Time // by lane: when its last span ends
	for _, i := range order {
		s := spans[i]
		end := s.end
		if end.Before(s.start) {
			end = s.start
		}
		lane := slices.IndexFunc(busyUntil, func(t time.Time) bool { return !t.After(s.start) })
		if lane < 0 {
			lane = len(busyUntil)
			busyUntil = append(busyUntil, end)
		} else {
			busyUntil[lane] = end
		}
		lanes[i] = lane
	}
	return lanes, len(busyUntil)
}

// clamp returns v within [lo, hi].
func clamp[T cmp.Ordered](v, lo, hi T) T { return max(lo, min(v, hi)) }
