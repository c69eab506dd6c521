package worker

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/worker/internal/proc"
)

// DefaultChunkIdleTimeout is the default of Config.ChunkIdleTimeout
// (HELIOS_CHUNK_IDLE_TIMEOUT): how long a chunk may print nothing and
// grow no file before it is killed. It must stay well above the quietest
// gap of a real render (a long encode, a slow first frame).
const DefaultChunkIdleTimeout = 5 * time.Minute

// The idle watch looks every quarter of the timeout, within these bounds:
// often enough to kill soon after the timeout, seldom enough that its
// look at the workspace costs nothing that matters.
const (
	idlePollMin = 100 * time.Millisecond
	idlePollMax = 5 * time.Second
)

// idleMaxEntries bounds the entries (files, folders, links) of the
// workspace that one look reads, and idleReadBatch how many are read from
// a folder at once, so that a tree of millions of files costs a look no
// more than this many. The folders are read breadth first: the files near
// the top (the outputFile, a frames folder) are always seen. Past the
// bound the look stops, and files beyond it are not seen: a chunk whose
// only sign of life is such a file counts as idle, unless it prints.
// Entries that come and go within the bound count as activity.
const (
	idleMaxEntries = 10_000
	idleReadBatch  = 256
)

// idlePoll is how often the watch of a chunk with this idle timeout looks.
func idlePoll(timeout time.Duration) time.Duration {
	return min(max(timeout/4, idlePollMin), idlePollMax)
}

// watchIdle starts the idle watch of a chunk about to run with ps in the
// workspace dir: it counts the bytes given to ps's writers and looks at
// dir's files, and calls stop with a cause wrapping [ErrIdle] once
// neither has moved for Config.ChunkIdleTimeout, which kills the chunk as
// any end of ctx does. The function returned ends the watch and waits for
// a look under way. With the watch off, watchIdle does nothing.
func (w *Worker) watchIdle(ctx context.Context, stop context.CancelCauseFunc, chunkID int64, dir string, ps *proc.Spec) func() {
	timeout := w.cfg.ChunkIdleTimeout
	if timeout <= 0 {
		return func() {}
	}
	streamed := new(atomic.Int64)
	ps.Stdout = countingWriter{ps.Stdout, streamed}
	ps.Stderr = countingWriter{ps.Stderr, streamed}
	// A timer, not a goroutine with a ticker: a chunk that ends before
	// the first poll (most) costs no goroutine and no look.
	iw := &idleWatch{dir: dir, timeout: timeout, streamed: streamed, last: time.Now()}
	poll := idlePoll(timeout)
	var (
		mu    sync.Mutex // held by a look, so that ending waits for it; guards t
		ended bool
		t     *time.Timer
	)
	mu.Lock() // the first look reads t
	defer mu.Unlock()
	t = time.AfterFunc(poll, func() {
		mu.Lock()
		defer mu.Unlock()
		if ended || ctx.Err() != nil {
			return
		}
		if iw.idle(time.Now()) {
			stop(idleError(chunkID, timeout))
			return
		}
		t.Reset(poll)
	})
	return func() {
		mu.Lock()
		ended = true
		t.Stop()
		mu.Unlock()
	}
}

// An idleWatch tells, at each poll, whether neither the bytes the chunk
// printed (streamed) nor dir's fingerprint has changed for timeout. A
// look at the files is skipped while the chunk prints; the look after
// such a pause counts as activity, since what it is compared with is
// old. The first look, at the first poll, counts as activity too, so
// that no change of the first poll is missed: an idle kill may come one
// poll later than the timeout.
type idleWatch struct {
	dir      string
	timeout  time.Duration
	streamed *atomic.Int64
	last     time.Time   // the last activity
	seen     int64       // streamed at the last poll
	fp       fingerprint // the last look's
	current  bool        // fp was taken at the previous poll
}

// idle is the poll at now: true once the chunk has been idle for timeout.
func (iw *idleWatch) idle(now time.Time) bool {
	if n := iw.streamed.Load(); n != iw.seen {
		iw.seen, iw.last, iw.current = n, now, false
		return false
	}
	if look := workspaceFingerprint(iw.dir, idleMaxEntries); !iw.current || look != iw.fp {
		iw.fp, iw.last, iw.current = look, now, true
		return false
	}
	return now.Sub(iw.last) >= iw.timeout
}

// idleError is why an idle chunk was killed: "chunk 3: no output for 300
// s; killed (HELIOS_CHUNK_IDLE_TIMEOUT)".
func idleError(chunkID int64, timeout time.Duration) error {
	return fmt.Errorf("chunk %d: %w for %s s; killed (%s)", chunkID, ErrIdle, seconds(timeout), EnvChunkIdleTimeout)
}

// seconds words d in whole seconds, cut down ("300" for 5m); below a
// second, which only tests set, as a fraction ("0.5").
func seconds(d time.Duration) string {
	if d < time.Second {
		return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
	}
	return strconv.FormatInt(int64(d/time.Second), 10)
}

// countingWriter passes writes on to w and adds their length to n.
type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c countingWriter) Write(p []byte) (int, error) {
	c.n.Add(int64(len(p)))
	return c.w.Write(p)
}

// A fingerprint sums up the files below a folder cheaply: a file that
// grows, shrinks, is written, made or removed changes it.
type fingerprint struct {
	bytes   int64 // total size of the regular files seen
	newest  int64 // latest modification time among them, in Unix ns
	entries int   // entries seen, the limit at most
}

// workspaceFingerprint is the fingerprint of root's tree, read breadth
// first up to limit entries (idleMaxEntries). Symbolic links are not
// followed; a folder that cannot be read counts as empty.
func workspaceFingerprint(root string, limit int) fingerprint {
	var fp fingerprint
	queue := []string{root}
	for len(queue) > 0 && fp.entries < limit {
		dir := queue[0]
		queue = fp.addDir(dir, queue[1:], limit)
	}
	return fp
}

// addDir adds dir's entries to fp, up to limit in all, and returns queue
// with dir's folders added.
func (fp *fingerprint) addDir(dir string, queue []string, limit int) []string {
	f, err := os.Open(dir)
	if err != nil {
		return queue // gone, or not readable
	}
	defer f.Close()
	for fp.entries < limit {
		batch, err := f.ReadDir(min(idleReadBatch, limit-fp.entries))
		for _, e := range batch {
			fp.entries++
			switch {
			case e.IsDir():
				queue = append(queue, filepath.Join(dir, e.Name()))
			case e.Type().IsRegular():
				if info, err := e.Info(); err == nil {
					fp.bytes += info.Size()
					fp.newest = max(fp.newest, info.ModTime().UnixNano())
				}
			}
		}
		if err != nil {
			return queue // io.EOF: all read
		}
	}
	return queue
}
