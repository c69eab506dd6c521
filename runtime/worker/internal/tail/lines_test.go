package tail

import (
	"bytes"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
)

// recorder keeps every Write it gets as one piece.
type recorder struct{ writes []string }

func (r *recorder) Write(p []byte) (int, error) {
	r.writes = append(r.writes, string(p))
	return len(p), nil
}

func newLines(w io.Writer) *Lines { return NewLines(new(sync.Mutex), w) }

func TestLineWriterWholeLines(t *testing.T) {
	rec := &recorder{}
	lw := newLines(rec)
	for _, p := range []string{"ab", "c\nde", "f\n", "", "g\nh\ni", "\n", "tail"} {
		if n, err := lw.Write([]byte(p)); n != len(p) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", p, n, err)
		}
	}
	want := []string{"abc\n", "def\n", "g\nh\n", "i\n"}
	if strings.Join(rec.writes, "|") != strings.Join(want, "|") {
		t.Errorf("before Close: writes %q, want %q", rec.writes, want)
	}
	lw.Close()
	want = append(want, "tail\n")
	if strings.Join(rec.writes, "|") != strings.Join(want, "|") {
		t.Errorf("after Close: writes %q, want %q", rec.writes, want)
	}
	lw.Close() // nothing left: no empty line
	if len(rec.writes) != len(want) {
		t.Errorf("a second Close wrote %q", rec.writes[len(want):])
	}
}

func TestLineWriterLongLine(t *testing.T) {
	rec := &recorder{}
	lw := newLines(rec)
	line := bytes.Repeat([]byte("x"), 2*maxLogLine+100)
	for p := line; len(p) > 0; p = p[min(len(p), 1000):] {
		lw.Write(p[:min(len(p), 1000)]) //nolint:errcheck
	}
	lw.Close()
	want := []string{strings.Repeat("x", maxLogLine) + "\n", strings.Repeat("x", maxLogLine) + "\n", strings.Repeat("x", 100) + "\n"}
	if len(rec.writes) != 3 || rec.writes[0] != want[0] || rec.writes[1] != want[1] || rec.writes[2] != want[2] {
		t.Errorf("got %d writes of sizes %v", len(rec.writes), sizes(rec.writes))
	}
}

func sizes(ws []string) []int {
	var n []int
	for _, w := range ws {
		n = append(n, len(w))
	}
	return n
}

// Whatever the writes, the log gets the data back in whole lines, with a
// newline added only where a line was cut or left unfinished.
func TestLineWriterRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 40 {
		var data []byte
		for range r.IntN(12) {
			n := r.IntN(200)
			if r.IntN(3) == 0 {
				n = r.IntN(3 * maxLogLine)
			}
			data = append(data, bytes.Repeat([]byte{'a' + byte(r.IntN(26))}, n)...)
			if r.IntN(3) > 0 {
				data = append(data, '\n')
			}
		}
		rec := &recorder{}
		lw := newLines(rec)
		for p := data; len(p) > 0; {
			n := min(len(p), 1+r.IntN(40000))
			lw.Write(p[:n]) //nolint:errcheck
			p = p[n:]
		}
		lw.Close()
		var got []byte
		for _, w := range rec.writes {
			if !strings.HasSuffix(w, "\n") {
				t.Fatalf("a write of %d bytes does not end a line", len(w))
			}
			got = append(got, w...)
		}
		if want := string(data); strings.ReplaceAll(string(got), "\n", "") != strings.ReplaceAll(want, "\n", "") ||
			len(got) < len(data) {
			t.Fatalf("log holds %d bytes for %d written", len(got), len(data))
		}
	}
}

// maxLogLine is documented as the longest line passed through whole.
func TestLineWriterLineLimit(t *testing.T) {
	rec := &recorder{}
	lw := newLines(rec)
	lw.Write(bytes.Repeat([]byte("a"), 60000))               //nolint:errcheck
	lw.Write(append(bytes.Repeat([]byte("b"), 10000), '\n')) //nolint:errcheck
	for _, w := range rec.writes {
		if len(w) > maxLogLine+1 {
			t.Errorf("a line of %d bytes passed through, longer than maxLogLine %d", len(w), maxLogLine)
		}
	}
}

// Chunks that share a log share its lock: their lines never mix.
func TestLineWriterShared(t *testing.T) {
	var log bytes.Buffer // written only under mu
	mu := new(sync.Mutex)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			lw := NewLines(mu, &log)
			line := strings.Repeat(string(rune('a'+i)), 100+i) + "\n"
			data := []byte(strings.Repeat(line, 200))
			for p := data; len(p) > 0; p = p[min(len(p), 37+i):] {
				lw.Write(p[:min(len(p), 37+i)]) //nolint:errcheck
			}
			lw.Close()
		})
	}
	wg.Wait()
	counts := map[string]int{}
	for line := range strings.Lines(log.String()) {
		counts[line]++
	}
	for i := range 8 {
		line := strings.Repeat(string(rune('a'+i)), 100+i) + "\n"
		if counts[line] != 200 {
			t.Errorf("writer %d: %d whole lines in the log, want 200", i, counts[line])
		}
	}
	if len(counts) != 8 {
		t.Errorf("%d distinct lines in the log, want 8: lines were mixed", len(counts))
	}
}

// failing is a log that refuses every write.
type failing struct{}

func (failing) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestLineWriterIgnoresErrors(t *testing.T) {
	lw := newLines(failing{})
	for _, p := range []string{"a\n", "partial", strings.Repeat("z", maxLogLine+5)} {
		if n, err := lw.Write([]byte(p)); n != len(p) || err != nil {
			t.Errorf("Write(%d bytes) = %d, %v", len(p), n, err)
		}
	}
	if err := lw.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
}
