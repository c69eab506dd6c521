package probe

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/helios-project/helios-scaffold/runtime/internal/msg"
)

// capture keeps the first max bytes written to it and counts the rest, so
// that a flood of output neither fills memory nor blocks ffprobe.
type capture struct {
	buf   []byte
	max   int
	total int64 // bytes written, kept or not
	lines int64 // newlines written, kept or not
	last  byte  // the last byte written
}

func (c *capture) Write(p []byte) (int, error) {
	c.total += int64(len(p))
	c.lines += int64(bytes.Count(p, []byte{'\n'}))
	if len(p) > 0 {
		c.last = p[len(p)-1]
	}
	if room := c.max - len(c.buf); room > 0 {
		c.buf = append(c.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// cut reports whether some of the output was not kept.
func (c *capture) cut() bool { return c.total > int64(len(c.buf)) }

// output is the part of ffprobe's JSON that Check reads. ffprobe writes
// numbers it may not know ("N/A") as strings, and leaves out fields it
// has no value for.
type output struct {
	Streams *[]stream `json:"streams"`
	Format  struct {
		Duration string `json:"duration"`
	} `json:"format"`
}

type stream struct {
	CodecName    string `json:"codec_name"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
	Duration     string `json:"duration"`
	NbReadFrames string `json:"nb_read_frames"`
	AvgFrameRate string `json:"avg_frame_rate"`
}

// probed is what ffprobe's output says of the first video stream.
type probed struct {
	hasVideo    bool
	report      Report
	hasFrames   bool    // report.Frames is known
	hasDuration bool    // report.Duration is known
	fps         float64 // the stream's average frame rate; 0 when unknown
}

// parse reads ffprobe's JSON: a single object with a list of streams, at
// most one of them (the first video stream).
func parse(data []byte) (probed, error) {
	var out output
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&out); err != nil {
		return probed{}, fmt.Errorf("reading ffprobe's JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return probed{}, errors.New("reading ffprobe's JSON: more after the object")
	}
	if out.Streams == nil {
		return probed{}, errors.New("reading ffprobe's JSON: no streams list")
	}
	streams := *out.Streams
	switch len(streams) {
	case 0:
		return probed{}, nil
	case 1:
	default:
		return probed{}, fmt.Errorf("reading ffprobe's JSON: %d streams; want at most 1", len(streams))
	}
	return parseStream(streams[0], out.Format.Duration)
}

// parseStream reads one video stream, with the container's duration for
// when the stream has none.
func parseStream(s stream, formatDuration string) (probed, error) {
	p := probed{hasVideo: true, report: Report{Codec: s.CodecName, Width: s.Width, Height: s.Height}}
	var err error
	if p.report.Frames, p.hasFrames, err = parseCount(s.NbReadFrames); err != nil {
		return probed{}, fmt.Errorf("reading ffprobe's nb_read_frames: %w", err)
	}
	if p.report.Duration, p.hasDuration, err = parseSeconds(s.Duration); err != nil {
		return probed{}, fmt.Errorf("reading ffprobe's stream duration: %w", err)
	}
	if !p.hasDuration {
		if p.report.Duration, p.hasDuration, err = parseSeconds(formatDuration); err != nil {
			return probed{}, fmt.Errorf("reading ffprobe's format duration: %w", err)
		}
	}
	p.fps = parseRate(s.AvgFrameRate)
	return p, nil
}

// unknown reports a value ffprobe does not know.
func unknown(v string) bool { return v == "" || v == "N/A" }

// parseCount reads a count of frames; ok is false when it is unknown.
func parseCount(v string) (n int64, ok bool, err error) {
	if unknown(v) {
		return 0, false, nil
	}
	n, err = strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, false, fmt.Errorf("%s is not a count", msg.Key(v))
	}
	return n, true, nil
}

// maxSeconds is the longest duration parseSeconds takes, well within
// time.Duration.
const maxSeconds = 1 << 32

// parseSeconds reads a duration in seconds; ok is false when it is
// unknown or negative (a stream whose timestamps start late).
func parseSeconds(v string) (d time.Duration, ok bool, err error) {
	if unknown(v) {
		return 0, false, nil
	}
	s, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(s) || s > maxSeconds {
		return 0, false, fmt.Errorf("%s is not a duration in seconds", msg.Key(v))
	}
	if s < 0 {
		return 0, false, nil
	}
	return time.Duration(math.Round(s * float64(time.Second))), true, nil
}

// parseRate reads a frame rate such as "30000/1001"; it is 0 when unknown
// ("0/0") or not a rate.
func parseRate(v string) float64 {
	num, den, ok := strings.Cut(v, "/")
	if !ok {
		return 0
	}
	n, err1 := strconv.ParseInt(num, 10, 64)
	d, err2 := strconv.ParseInt(den, 10, 64)
	if err1 != nil || err2 != nil || n <= 0 || d <= 0 {
		return 0
	}
	return float64(n) / float64(d)
}

// maxQuote is how many bytes of ffprobe's first error line a message
// quotes.
const maxQuote = 200

// firstError is the first line of ffprobe's standard error as a message
// quotes it: without the "[component @ 0xADDRESS] " that ffmpeg starts
// it with, nor the "file:FILE: " of the file ffprobe was given, cut short
// and with control characters replaced. more is how many lines follow.
func firstError(c *capture, file string) (line string, more int64) {
	lines := c.lines
	if c.total > 0 && c.last != '\n' {
		lines++ // a last line without its newline
	}
	text := strings.TrimLeft(string(c.buf), "\r\n")
	line, _, _ = strings.Cut(text, "\n")
	if strings.HasPrefix(line, "[") {
		if _, after, ok := strings.Cut(line, "] "); ok {
			line = after
		}
	}
	line = strings.TrimPrefix(line, "file:"+file+": ")
	return clean(strings.TrimSpace(line)), max(lines-1, 0)
}

// clean replaces control characters and invalid UTF-8 in s, and cuts it
// to maxQuote bytes.
func clean(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len()+utf8.RuneLen(r) > maxQuote {
			b.WriteString("…")
			break
		}
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			r = '?'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// plain is name as it is when it needs no quoting, and quoted otherwise.
func plain(name string) string {
	q := strconv.Quote(name)
	if q[1:len(q)-1] == name && !strings.ContainsAny(name, " \"") && len(name) <= msg.MaxKey {
		return name
	}
	return msg.Key(name)
}
