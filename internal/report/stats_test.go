package report

import (
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	s := func(secs ...int) []time.Duration {
		ds := make([]time.Duration, len(secs))
		for i, v := range secs {
			ds[i] = time.Duration(v) * time.Second
		}
		return ds
	}
	for _, tc := range []struct {
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{nil, 50, 0},
		{s(7), 50, 7 * time.Second},
		{s(7), 95, 7 * time.Second},
		{s(1, 2), 50, 1 * time.Second},
		{s(1, 2), 51, 2 * time.Second},
		{s(4, 6, 8, 8, 8, 9, 12), 50, 8 * time.Second},
		{s(4, 6, 8, 8, 8, 9, 12), 95, 12 * time.Second},
		{s(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 50, 5 * time.Second},
		{s(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 90, 9 * time.Second},
		{s(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 95, 10 * time.Second},
		{s(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0, 1 * time.Second},
		{s(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 100, 10 * time.Second},
	} {
		if got := percentile(tc.sorted, tc.p); got != tc.want {
			t.Errorf("percentile(%v, %v) = %v, want %v", tc.sorted, tc.p, got, tc.want)
		}
	}
}

func TestFormats(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{binaryBytes(0), "0 B"},
		{binaryBytes(1023), "1023 B"},
		{binaryBytes(1024), "1.0 KiB"},
		{binaryBytes(1536), "1.5 KiB"},
		{binaryBytes(5 << 20), "5.0 MiB"},
		{binaryBytes(3 << 40), "3.0 TiB"},
		{binaryBytes(1 << 62), "4.0 EiB"},
		{usd(0), "$0.0000"},
		{usd(0.01234), "$0.0123"},
		{usd(0.99994), "$0.9999"},
		{usd(0.99996), "$1.00"},
		{usd(12.345), "$12.35"},
		{usd(-0.5), "-$0.5000"},
		{seconds(1234 * time.Millisecond), "1.23 s"},
		{wall(59 * time.Second), "59.00 s"},
		{wall(time.Hour + 2*time.Minute + 3400*time.Millisecond), "1h2m3s"},
		{timestamp(time.Time{}), "—"},
		{timestamp(time.Date(2026, 12, 1, 11, 0, 0, 0, time.FixedZone("CET", 3600))), "2026-12-01 10:00:00 UTC"},
		{frames(90, 30), "frames 90–119"},
		{frames(7, 1), "frame 7"},
		{frames(7, 0), ""},
		{truncate("abc", 3), "abc"},
		{truncate("abcd", 3), "abc…"},
		{truncate("ééééé", 2), "éé…"},
		{truncate("a\xffb", 5), "a\uFFFDb"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestSlowest(t *testing.T) {
	d := sampleData()
	d.Attempts = append(d.Attempts, Attempt{Chunk: 9, Attempt: 1, Start: at(1), End: at(30), Outcome: OutcomeOK}) // no frames: left out
	for c := range int64(12) {
		d.Attempts = append(d.Attempts, Attempt{Chunk: 100 + c, Attempt: 1, Start: at(1), End: at(2), Outcome: OutcomeOK, StartFrame: 10 * c, FrameCount: 10})
	}
	rows := slowest(resolve(d), maxSlowest)
	var got []string
	for _, r := range rows {
		got = append(got, r.Frames+"="+r.MsPerFrame)
	}
	want := "150–179=400.0 30–59=300.0 0–29=266.7 60–89=266.7 120–149=266.7 180–209=200.0 210–239=133.3 0–9=100.0 10–19=100.0 20–29=100.0"
	if strings.Join(got, " ") != want {
		t.Errorf("slowest = %s\nwant      %s", strings.Join(got, " "), want)
	}
}

func TestInFlight(t *testing.T) {
	d := Data{Started: t0, Ended: at(10), Outcome: "interrupted", Attempts: []Attempt{
		{Chunk: 0, Attempt: 1, Start: at(2), Outcome: OutcomeRunning},               // no end: runs to Ended
		{Chunk: 1, Attempt: 1, Start: at(4), End: at(3), Outcome: OutcomeKilled},    // end before start
		{Chunk: 2, Attempt: 1, Start: at(12), Outcome: OutcomeRunning},              // started after Ended
		{Chunk: 3, Attempt: 1, End: at(5), Outcome: OutcomeOK, FrameCount: 5},       // no start: from Started
		{Chunk: 4, Attempt: 1, Start: at(1), End: at(2), Outcome: "weird<outcome>"}, // unknown outcome
	}}
	var got []string
	for _, r := range resolve(d) {
		got = append(got, r.end.Sub(r.Start).String())
	}
	if want := "5s 1s 8s 6s 0s"; strings.Join(got, " ") != want {
		t.Errorf("durations by start = %s, want %s", strings.Join(got, " "), want)
	}
	page, err := Render(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`id="n-running">2<`, `id="n-killed">1<`, `class="o-other"`, `class="sw o-other"`, `weird&lt;outcome&gt;`} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}
