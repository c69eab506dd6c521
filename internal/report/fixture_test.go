package report

import "time"

// t0 is when the sample run started.
var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// at is t0 plus s seconds.
func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

// sampleAttempt is one attempt of the sample: chunk c's attempt n from
// second s to second e, of 30 frames from c·30.
func sampleAttempt(c int64, n int, hedge bool, s, e float64, outcome, reason string) Attempt {
	return Attempt{
		Chunk: c, Attempt: n, Hedge: hedge, Start: at(s), End: at(e), Outcome: outcome, Reason: reason,
		StartFrame: c * 30, FrameCount: 30, Bytes: 1 << 20, CostUSD: 0.0002 * (e - s),
	}
}

// sampleData is a run of 8 chunks over 4 worker slots: 6 chunks ok at
// their first attempt (chunk 5's hedge lost the race, chunk 6's won it),
// chunk 2 retried then ok, chunk 3 failed. The ok attempts take
// 4, 6, 8, 8, 8, 9 and 12 s; the failed one 6 s, the retried one 4 s, the
// lost ones 4 and 15 s.
func sampleData() Data {
	return Data{
		Title: "promo-video", Target: "aws", Outcome: "failed",
		Message: "1 chunk failed: chunk 3: exit status 1",
		Started: t0, Ended: at(25),
		Chunks: 8,
		Attempts: []Attempt{
			sampleAttempt(0, 1, false, 0, 8, OutcomeOK, ""),
			sampleAttempt(1, 1, false, 0, 9, OutcomeOK, ""),
			sampleAttempt(2, 1, false, 0, 4, OutcomeRetried, "exit status 137: out of memory"),
			sampleAttempt(3, 1, false, 0, 6, OutcomeFailed, "exit status 1: Error: composition not found"),
			sampleAttempt(2, 2, false, 4, 12, OutcomeOK, ""),
			sampleAttempt(4, 1, false, 6, 14, OutcomeOK, ""),
			sampleAttempt(5, 1, false, 8, 20, OutcomeOK, ""),
			sampleAttempt(6, 1, false, 9, 24, OutcomeLost, "cancelled: the hedge finished first"),
			sampleAttempt(7, 1, false, 12, 16, OutcomeOK, ""),
			sampleAttempt(5, 2, true, 16, 20, OutcomeLost, "cancelled: the first attempt finished first"),
			sampleAttempt(6, 2, true, 18, 24, OutcomeOK, ""),
		},
		UploadedBytes: 3<<20 + 512<<10, DownloadedBytes: 1536 << 20,
		CostUSD: 0.0192, EstimateUSD: 2.5,
		PriceNote: "prices of 2026-12-01, us-east-1, arm64 2048 MB",
	}
}

// emptyData is an interrupted run that had started nothing.
func emptyData() Data {
	return Data{
		Title: "promo-video", Target: "local", Outcome: "interrupted", Message: "interrupted before any chunk ran",
		Started: t0, Ended: at(0.4), Chunks: 8, Skipped: 2,
	}
}
