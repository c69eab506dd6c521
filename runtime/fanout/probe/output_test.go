package probe

import (
	"strings"
	"testing"
	"time"
)

func TestParseSeconds(t *testing.T) {
	for _, tc := range []struct {
		in   string
		d    time.Duration
		ok   bool
		fail bool
	}{
		{"1.000000", time.Second, true, false},
		{"0.666667", 666667 * time.Microsecond, true, false},
		{"N/A", 0, false, false},
		{"", 0, false, false},
		{"-0.033", 0, false, false},
		{"NaN", 0, false, true},
		{"1e300", 0, false, true},
		{"1,5", 0, false, true},
	} {
		d, ok, err := parseSeconds(tc.in)
		if d != tc.d || ok != tc.ok || (err != nil) != tc.fail {
			t.Errorf("parseSeconds(%q) = %v, %v, %v; want %v, %v, failing %v", tc.in, d, ok, err, tc.d, tc.ok, tc.fail)
		}
	}
}

func TestParseRate(t *testing.T) {
	for in, want := range map[string]float64{
		"30/1": 30, "30000/1001": 30000.0 / 1001, "0/0": 0, "25": 0, "-30/1": 0, "x/y": 0,
	} {
		if got := parseRate(in); got != want {
			t.Errorf("parseRate(%q) = %v; want %v", in, got, want)
		}
	}
}

func TestFPS(t *testing.T) {
	for in, want := range map[float64]string{30: "30", 12.5: "12.5", 30000.0 / 1001: "29.970", 0.125: "0.125"} {
		if got := fps(in); got != want {
			t.Errorf("fps(%v) = %q; want %q", in, got, want)
		}
	}
}

func TestFirstError(t *testing.T) {
	for _, tc := range []struct {
		out, file, line string
		more            int64
	}{
		{"[mov,mp4,m4a,3gp,3g2,mj2 @ 0x558afb07af00] moov atom not found\nfile:a.mp4: Invalid data found when processing input\n",
			"a.mp4", "moov atom not found", 1},
		{"file:a.mp4: Invalid data found when processing input\n", "a.mp4", "Invalid data found when processing input", 0},
		{"no newline", "a.mp4", "no newline", 0},
		{"one\ntwo", "a.mp4", "one", 1},
		{"\x1b[31mred\x1b[0m \xff\n", "a.mp4", "?[31mred?[0m ?", 0},
		{strings.Repeat("é", 150), "a.mp4", strings.Repeat("é", 100) + "…", 0},
	} {
		c := &capture{max: maxStderr}
		c.Write([]byte(tc.out))
		if line, more := firstError(c, tc.file); line != tc.line || more != tc.more {
			t.Errorf("firstError(%q) = %q, %d; want %q, %d", tc.out, line, more, tc.line, tc.more)
		}
	}
}

func TestCapture(t *testing.T) {
	c := &capture{max: 4}
	for _, s := range []string{"ab\n", "cd\nef\n", "g"} {
		if n, err := c.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	if string(c.buf) != "ab\nc" || c.total != 10 || c.lines != 3 || c.last != 'g' || !c.cut() {
		t.Errorf("capture %+v; want ab\\nc kept of 10 bytes, 3 lines", c)
	}
}

func TestPlain(t *testing.T) {
	for in, want := range map[string]string{
		"out_part_3.mp4":        "out_part_3.mp4",
		"-i:frames.mp4":         "-i:frames.mp4",
		"two words.mp4":         `"two words.mp4"`,
		"line\nbreak.mp4":       `"line\nbreak.mp4"`,
		`quo"te.mp4`:            `"quo\"te.mp4"`,
		strings.Repeat("a", 70): `"` + strings.Repeat("a", 64) + `"…`,
	} {
		if got := plain(in); got != want {
			t.Errorf("plain(%q) = %s; want %s", in, got, want)
		}
	}
}

func TestTimeout(t *testing.T) {
	for _, tc := range []struct {
		p    Prober
		want Want
		d    time.Duration
	}{
		{Prober{Timeout: time.Second}, Want{Frames: 1 << 40}, time.Second},
		{Prober{}, Want{Frames: 150}, DefaultTimeout + 1500*time.Millisecond},
		{Prober{Timeout: -1}, Want{Frames: 1 << 62}, DefaultTimeout + maxTimeoutFrames*FrameTimeout},
	} {
		if got := tc.p.timeout(tc.want); got != tc.d {
			t.Errorf("%+v.timeout(%+v) = %v; want %v", tc.p, tc.want, got, tc.d)
		}
	}
}
