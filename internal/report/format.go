package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// seconds formats a duration as seconds with two decimals: "1.23 s".
func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + " s" }

// wall formats a run's wall time: seconds under a minute, then
// "1h2m3s".
func wall(d time.Duration) string {
	if d < time.Minute {
		return seconds(d)
	}
	return d.Round(time.Second).String()
}

// timestamp formats t in UTC to the second, or "—" for the zero time.
func timestamp(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

var binaryUnits = []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}

// binaryBytes formats n bytes in binary units: "512 B", "1.5 KiB",
// "2.0 MiB".
func binaryBytes(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	v, unit := float64(n)/1024, 0
	for v >= 1024 && unit < len(binaryUnits)-1 {
		v, unit = v/1024, unit+1
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " " + binaryUnits[unit]
}

// usd formats dollars with 4 decimals under $1 and 2 from $1 up.
func usd(v float64) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	if math.Round(v*1e4)/1e4 < 1 {
		return fmt.Sprintf("%s$%.4f", sign, v)
	}
	return fmt.Sprintf("%s$%.2f", sign, v)
}

// frameRange formats a chunk's frames, both ends included: "90–119", or
// "7" for one frame.
func frameRange(start, count int64) string {
	if count == 1 {
		return strconv.FormatInt(start, 10)
	}
	return fmt.Sprintf("%d–%d", start, start+count-1)
}

// frames is frameRange with its word: "frames 90–119", "frame 7", or ""
// when the count is unknown.
func frames(start, count int64) string {
	switch {
	case count <= 0:
		return ""
	case count == 1:
		return "frame " + frameRange(start, count)
	}
	return "frames " + frameRange(start, count)
}

// truncate cuts s to n runes, marking the cut with "…". Invalid UTF-8
// becomes U+FFFD.
func truncate(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
