package fanout

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// ErrStateMismatch is a state file written for another job spec.
var ErrStateMismatch = errors.New("state file is of another job spec")

// ErrStateCorrupt is a state file that is not one helios-scaffold wrote.
var ErrStateCorrupt = errors.New("state file is corrupt")

// stateVersion is the format of the state file's first line.
const stateVersion = 1

// stateHeader is the state file's first line: which spec it is of.
type stateHeader struct {
	Version int    `json:"heliosRunState"`
	Spec    string `json:"spec"` // Job.Hash
	JobPath string `json:"jobPath,omitempty"`
}

// Record is one finished chunk, a line of the state file.
type Record struct {
	Chunk     int64  `json:"chunk"`
	OutputURL string `json:"outputUrl,omitempty"`
	Bytes     int64  `json:"bytes,omitempty"`
}

// State is the append-only record of a job's finished chunks: a line of
// JSON per chunk, appended and synced before the chunk counts as done, so
// that a kill at any point loses at most the lines being written. A torn
// last line is dropped when the file is opened again. Chunks that finish
// together share one write and one sync. Its methods are safe for
// concurrent use.
type State struct {
	mu       sync.Mutex
	flushed  *sync.Cond // a flush ended
	f        *os.File
	done     map[int64]Record
	buf      []byte // lines not yet written
	queued   int64  // lines ever queued
	synced   int64  // lines written and synced
	flushing bool
	err      error // of the last flush
}

// OpenState opens the state file at path for the job whose Hash is hash,
// creating it if need be, and reads which chunks are done. A file of
// another spec is refused with [ErrStateMismatch].
func OpenState(path, hash, jobPath string) (*State, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening state file: %w", err)
	}
	s := &State{f: f, done: map[int64]Record{}}
	s.flushed = sync.NewCond(&s.mu)
	if err := s.load(path, hash, jobPath); err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

// load reads the file, drops a torn last line, and writes the header to
// an empty file.
func (s *State) load(path, hash, jobPath string) error {
	data, err := io.ReadAll(s.f)
	if err != nil {
		return fmt.Errorf("reading state file %s: %w", path, err)
	}
	whole := len(data)
	if i := bytes.LastIndexByte(data, '\n'); i+1 < len(data) {
		whole = i + 1 // the last line was cut off mid-write
	}
	if whole == 0 {
		head, _ := json.Marshal(stateHeader{Version: stateVersion, Spec: hash, JobPath: jobPath})
		return s.rewind(0, append(head, '\n'))
	}
	sc := bufio.NewScanner(bytes.NewReader(data[:whole]))
	sc.Buffer(nil, 1<<20)
	sc.Scan()
	var head stateHeader
	if err := json.Unmarshal(sc.Bytes(), &head); err != nil || head.Version != stateVersion {
		return fmt.Errorf("%w: %s does not start with a helios-scaffold run state header", ErrStateCorrupt, path)
	}
	if head.Spec != hash {
		return fmt.Errorf("%w: %s was written for job spec %s (%s); this one is %s: remove it, or pass another --state",
			ErrStateMismatch, path, head.JobPath, head.Spec, hash)
	}
	for n := 2; sc.Scan(); n++ {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return fmt.Errorf("%w: %s line %d: %w", ErrStateCorrupt, path, n, err)
		}
		s.done[r.Chunk] = r
	}
	return s.rewind(whole, nil)
}

// rewind cuts the file at size, appends more, and syncs.
func (s *State) rewind(size int, more []byte) error {
	if err := s.f.Truncate(int64(size)); err != nil {
		return fmt.Errorf("writing state file: %w", err)
	}
	if _, err := s.f.Seek(int64(size), io.SeekStart); err != nil {
		return fmt.Errorf("writing state file: %w", err)
	}
	if _, err := s.f.Write(more); err != nil {
		return fmt.Errorf("writing state file: %w", err)
	}
	return s.f.Sync()
}

// Done returns the record of chunk id, if it has finished.
func (s *State) Done(id int64) (Record, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.done[id]
	return r, ok
}

// Records returns the record of every finished chunk.
func (s *State) Records() map[int64]Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[int64]Record, len(s.done))
	for id, r := range s.done {
		out[id] = r
	}
	return out
}

// Add records r as finished: one line, appended and synced before Add
// returns. While one caller writes, the others queue their lines for the
// next write (group commit), so that syncs do not serialise the chunks.
func (s *State) Add(r Record) error {
	line, err := json.Marshal(r)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = append(append(s.buf, line...), '\n')
	s.queued++
	mine := s.queued
	for s.synced < mine {
		if s.flushing {
			s.flushed.Wait()
			continue
		}
		s.flush()
	}
	if s.err != nil {
		return s.err
	}
	s.done[r.Chunk] = r
	return nil
}

// flush writes and syncs what is queued, without holding s.mu meanwhile.
func (s *State) flush() {
	buf, upto := s.buf, s.queued
	s.buf, s.flushing = nil, true
	s.mu.Unlock()
	_, err := s.f.Write(buf)
	if err == nil {
		err = s.f.Sync()
	}
	s.mu.Lock()
	s.flushing, s.synced = false, upto
	if err != nil {
		s.err = fmt.Errorf("writing state file: %w", err)
	}
	s.flushed.Broadcast()
}

// Close closes the file.
func (s *State) Close() error { return s.f.Close() }
