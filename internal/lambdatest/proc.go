package lambdatest

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// Descendants lists the processes below pid (children, grandchildren...),
// read from /proc; it is empty where there is no /proc.
func Descendants(pid int) []int {
	children := map[int][]int{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		data, err := os.ReadFile(f)
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(data, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(data[i+1:]))
		self, err1 := strconv.Atoi(filepath.Base(filepath.Dir(f)))
		if len(fields) < 2 || err1 != nil {
			continue
		}
		if ppid, err := strconv.Atoi(fields[1]); err == nil {
			children[ppid] = append(children[ppid], self)
		}
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// ProcessesWithArgs lists the processes whose command line is exactly
// argv (argv[0] compared as given, e.g. "sleep"), read from /proc.
func ProcessesWithArgs(argv ...string) []int {
	want := []byte(strings.Join(argv, "\x00") + "\x00")
	var pids []int
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range cmdlines {
		data, err := os.ReadFile(f)
		if err != nil || !bytes.Equal(data, want) {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(f))); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// WaitNoProcess waits at most timeout for every process with command line
// argv to be gone (a killed process may linger until it is reaped) and
// returns those still there.
func WaitNoProcess(timeout time.Duration, argv ...string) []int {
	deadline := time.Now().Add(timeout)
	for {
		pids := ProcessesWithArgs(argv...)
		if len(pids) == 0 || time.Now().After(deadline) {
			return pids
		}
		time.Sleep(20 * time.Millisecond)
	}
}

const (
	headLimit = 1 << 20
	tailLimit = 4 << 20
)

// logBuffer keeps the first headLimit bytes written to it and the last
// tailLimit to 2*tailLimit, so that a chunk printing gigabytes through the
// emulator costs bounded memory.
type logBuffer struct {
	mu      sync.Mutex
	head    []byte
	tail    []byte
	dropped int64
	total   int64
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := len(p)
	b.total += int64(n)
	if room := headLimit - len(b.head); room > 0 {
		k := min(room, len(p))
		b.head = append(b.head, p[:k]...)
		p = p[k:]
	}
	b.tail = append(b.tail, p...)
	if len(b.tail) > 2*tailLimit {
		drop := len(b.tail) - tailLimit
		b.dropped += int64(drop)
		b.tail = append(b.tail[:0], b.tail[drop:]...)
	}
	return n, nil
}

// Len is the number of bytes written in all.
func (b *logBuffer) Len() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.total
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dropped == 0 {
		return string(b.head) + string(b.tail)
	}
	return string(b.head) + "\n[... " + strconv.FormatInt(b.dropped, 10) + " bytes dropped ...]\n" + string(b.tail)
}

func (b *logBuffer) report(head, tail int) string {
	s := b.String()
	if len(s) > head+tail {
		s = s[:head] + "\n[...]\n" + s[len(s)-tail:]
	}
	var out strings.Builder
	for line := range strings.Lines(s) {
		if len(line) > maxReportLine { // a chunk's 64 KiB lines of output
			line = line[:maxReportLine/2] + "[... " + strconv.Itoa(len(line)-maxReportLine) + " bytes ...]" +
				line[len(line)-maxReportLine/2:]
		}
		out.WriteString(line)
	}
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || (unicode.IsPrint(r) && r != unicode.ReplacementChar) {
			return r
		}
		return '.'
	}, strings.ToValidUTF8(out.String(), "."))
}

const maxReportLine = 400
