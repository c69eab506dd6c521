package tail

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"unicode/utf8"
)

// refTail is the reference: keep everything, take the last limit bytes, and
// when the front was cut drop at most three continuation bytes that lead it.
func refTail(all []byte, limit int) []byte {
	if len(all) <= limit {
		return all
	}
	b := all[len(all)-limit:]
	for i := 0; i < utf8.UTFMax-1 && len(b) > 0 && !utf8.RuneStart(b[0]); i++ {
		b = b[1:]
	}
	return b
}

// writeAll writes data to tb in pieces of the given sizes, cycling through
// them, and checks every Write's return values.
func writeAll(t testing.TB, tb *Buffer, data []byte, sizes []int) {
	t.Helper()
	for i := 0; len(data) > 0; i++ {
		n := sizes[i%len(sizes)]
		n = min(n, len(data))
		w, err := tb.Write(data[:n])
		if w != n || err != nil {
			t.Fatalf("Write(%d bytes) = %d, %v", n, w, err)
		}
		data = data[n:]
	}
}

func checkTail(t testing.TB, tb *Buffer, all []byte, limit int) {
	t.Helper()
	if got, want := tb.Bytes(), refTail(all, limit); !bytes.Equal(got, want) {
		t.Fatalf("Bytes() = %q, want %q", got, want)
	}
	if got, want := tb.Truncated(), len(all) > limit; got != want {
		t.Errorf("Truncated() = %v, want %v", got, want)
	}
	if got, want := tb.Total(), int64(len(all)); got != want {
		t.Errorf("Total() = %d, want %d", got, want)
	}
	if len(tb.buf) > limit || len(all) > limit && cap(tb.buf) != limit {
		t.Errorf("buffer holds len %d cap %d for limit %d after %d bytes", len(tb.buf), cap(tb.buf), limit, len(all))
	}
}

// asciiData is n printable bytes that never repeat within 61, so that a
// misplaced byte shows.
func asciiData(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('A' + i%61)
	}
	return b
}

func TestTailBufferPatterns(t *testing.T) {
	for _, limit := range []int{1, 2, 3, 7, 16, 64} {
		patterns := map[string][]int{
			"bytes":              {1},
			"limit":              {limit},
			"limit-1":            {max(limit-1, 1)},
			"limit+1":            {limit + 1},
			"twice limit":        {2 * limit},
			"much larger":        {10*limit + 3},
			"small then large":   {limit - 1 + 1, 1, 3 * limit},
			"fill then one":      {limit, 1},
			"crossing the ring":  {limit/2 + 1, limit/2 + 1, limit/2 + 1},
			"one less then two":  {max(limit-1, 1), 2},
			"ascending":          {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17},
			"prime":              {5, 3, 11, 7},
			"large then small":   {3*limit + 1, 1, 2},
			"exact ring refills": {limit, limit, limit},
		}
		for name, sizes := range patterns {
			for _, n := range []int{0, 1, limit - 1, limit, limit + 1, 2*limit + 1, 5*limit + 3, 200} {
				if n < 0 {
					continue
				}
				t.Run(fmt.Sprintf("limit=%d/%s/n=%d", limit, name, n), func(t *testing.T) {
					data := asciiData(n)
					tb := New(limit)
					writeAll(t, tb, data, sizes)
					checkTail(t, tb, data, limit)
				})
			}
		}
	}
}

// Checking after every write catches a ring that is right only at the end.
func TestTailBufferEveryWrite(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, limit := range []int{1, 5, 32, 1000} {
		tb := New(limit)
		var all []byte
		for range 500 {
			p := asciiData(r.IntN(3 * limit))
			for i := range p {
				p[i] += byte(r.IntN(3))
			}
			if _, err := tb.Write(p); err != nil {
				t.Fatal(err)
			}
			all = append(all, p...)
			checkTail(t, tb, all, limit)
		}
	}
}

func TestTailBufferRandomBytes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		limit := 1 + r.IntN(50)
		data := make([]byte, r.IntN(300))
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		sizes := []int{1 + r.IntN(2*limit), 1 + r.IntN(limit), 1 + r.IntN(5)}
		tb := New(limit)
		writeAll(t, tb, data, sizes)
		checkTail(t, tb, data, limit)
	}
}

func TestTailBufferEmptyWrites(t *testing.T) {
	tb := New(4)
	for _, p := range []string{"", "ab", "", "cdef", "", "g", ""} {
		if n, err := tb.Write([]byte(p)); n != len(p) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", p, n, err)
		}
	}
	checkTail(t, tb, []byte("abcdefg"), 4)
}

func TestTailBufferUntouched(t *testing.T) {
	tb := New(8)
	if got := tb.Bytes(); len(got) != 0 {
		t.Errorf("Bytes() = %q, want empty", got)
	}
	if tb.Truncated() || tb.Total() != 0 {
		t.Errorf("Truncated() = %v, Total() = %d; want false, 0", tb.Truncated(), tb.Total())
	}
}

func TestTailBufferUTF8(t *testing.T) {
	const text = "x😀y€zé!" // 😀 is 4 bytes, € 3, é 2
	tests := []struct {
		name  string
		data  string
		limit int
		want  string
	}{
		{"no cut", text, len(text), text},
		{"cut before a rune", "ab😀", 4, "😀"},
		{"cut after 1 byte of 4", "ab😀", 3, ""},
		{"cut after 1 byte of 4, more follows", "a😀b", 4, "b"},
		{"cut after 2 bytes of 4", "a😀b", 3, "b"},
		{"cut after 3 bytes of 4", "a😀b", 2, "b"},
		{"cut after 1 byte of 3", "a€b", 3, "b"},
		{"cut after 2 bytes of 3", "a€b", 2, "b"},
		{"cut after 1 byte of 2", "aéb", 2, "b"},
		{"cut inside the text", text, len(text) - 2, "y€zé!"},
		{"cut at a boundary", text, len("y€zé!"), "y€zé!"},
		{"only continuation bytes left", "a\x80\x80\x80\x80\x80", 5, "\x80\x80"},
		{"at most three bytes dropped", "\x80\x80\x80\x80\x80\x80\x80", 6, "\x80\x80\x80"},
		{"not cut: invalid front kept", "\x80\x80ab", 4, "\x80\x80ab"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, size := range []int{1, 2, 3, len(tc.data)} {
				tb := New(tc.limit)
				writeAll(t, tb, []byte(tc.data), []int{size})
				if got := string(tb.Bytes()); got != tc.want {
					t.Errorf("writes of %d: Bytes() = %q, want %q", size, got, tc.want)
				}
				if tb.Truncated() != (len(tc.data) > tc.limit) {
					t.Errorf("writes of %d: Truncated() = %v", size, tb.Truncated())
				}
				checkTail(t, tb, []byte(tc.data), tc.limit)
			}
		})
	}
}

// A tail of valid UTF-8 text stays valid whatever the cut.
func TestTailBufferValidUTF8(t *testing.T) {
	text := bytes.Repeat([]byte("aé€😀"), 20)
	for limit := 1; limit <= 40; limit++ {
		tb := New(limit)
		writeAll(t, tb, text, []int{7})
		if got := tb.Bytes(); !utf8.Valid(got) || len(got) < limit-3 {
			t.Errorf("limit %d: Bytes() = %q (%d bytes)", limit, got, len(got))
		}
	}
}

// The ring stays at limit bytes however much is written.
func TestTailBufferAllocs(t *testing.T) {
	tb := New(1024)
	p := make([]byte, 32<<10)
	tb.Write(p)                                                 //nolint:errcheck
	allocs := testing.AllocsPerRun(100, func() { tb.Write(p) }) //nolint:errcheck
	if allocs != 0 {
		t.Errorf("Write on a full ring allocates %v times", allocs)
	}
	if len(tb.buf) != 1024 || cap(tb.buf) != 1024 {
		t.Errorf("ring has len %d cap %d, want 1024", len(tb.buf), cap(tb.buf))
	}
}

func FuzzTailBuffer(f *testing.F) {
	f.Add([]byte("hello, world"), uint8(5), []byte{1, 2, 3})
	f.Add([]byte("x😀y€zé!"), uint8(3), []byte{1})
	f.Add(asciiData(300), uint8(64), []byte{64, 1, 200})
	f.Add([]byte("abc"), uint8(0), []byte{})
	f.Add([]byte("abcdef"), uint8(4), []byte{0, 4, 0, 5})
	f.Fuzz(func(t *testing.T, data []byte, limit uint8, sizes []byte) {
		ws := []int{1} // a zero size alone would never finish
		for _, s := range sizes {
			ws = append(ws, int(s))
		}
		tb := New(int(limit))
		rest := data
		for i := 0; len(rest) > 0; i++ {
			n := min(ws[i%len(ws)], len(rest))
			if w, err := tb.Write(rest[:n]); w != n || err != nil {
				t.Fatalf("Write(%d bytes) = %d, %v", n, w, err)
			}
			rest = rest[n:]
		}
		checkTail(t, tb, data, int(limit))
	})
}
