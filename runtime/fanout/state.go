package fanout

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/helios-project/helios-scaffold/runtime/store"
)

// ErrStateMismatch is a state file written for another job spec.
var ErrStateMismatch = errors.New("state file is of another job spec")

// ErrStateCorrupt is a state file that is not one helios-scaffold wrote,
// or one with a record that a finished chunk could not have left.
var ErrStateCorrupt = errors.New("state file is corrupt")

// ErrNotStateFile is a --state path that holds something else: a file
// that is not a state file, a folder, a FIFO or a device. It is never
// written to.
var ErrNotStateFile = errors.New("not a state file")

// stateVersion is the format of the state file's first line. Version 1
// (helios-scaffold before the outputs' checksums) bound only the spec.
const stateVersion = 2

// stateHeader is the state file's first line: what its records hold for.
type stateHeader struct {
	Version int    `json:"heliosRunState"`
	Spec    string `json:"spec"` // Job.Hash
	JobPath string `json:"jobPath,omitempty"`
	// Inputs are the project files the outputs were rendered from.
	Inputs Inputs `json:"inputs,omitempty"`
}

// Record is one finished chunk, a line of the state file.
type Record struct {
	Chunk     int64  `json:"chunk"`
	OutputURL string `json:"outputUrl,omitempty"`
	Bytes     int64  `json:"bytes"`
	// SHA256 is the hex SHA-256 of the output as its worker put it, when
	// the worker said.
	SHA256 string `json:"sha256,omitempty"`
	// Attempt is which attempt of the chunk won, when it was not the
	// first (a retry, or a hedged backup).
	Attempt int `json:"attempt,omitempty"`
	// Hedge marks an attempt that won as the backup of a straggler.
	Hedge bool `json:"hedge,omitempty"`
}

// rawRecord is a Record as read, telling a missing field from a zero.
type rawRecord struct {
	Chunk     *int64  `json:"chunk"`
	OutputURL string  `json:"outputUrl"`
	Bytes     *int64  `json:"bytes"`
	SHA256    *string `json:"sha256"`
	Attempt   int     `json:"attempt"`
	Hedge     bool    `json:"hedge"`
}

// StateOptions are how [OpenState] opens a state file.
type StateOptions struct {
	// Inputs are the project files the outputs depend on. A state
	// written for other inputs is started over, and Restarted says why.
	Inputs Inputs
	// Wait makes OpenState wait for another run's lock on the file,
	// until ctx ends, instead of failing with [ErrLocked].
	Wait bool
}

// State is the append-only record of a job's finished chunks: a line of
// JSON per chunk, appended and synced before the chunk counts as done, so
// that a kill at any point loses at most the lines being written. A torn
// last line is dropped when the file is opened again. Chunks that finish
// together share one write and one sync. One run at a time holds a state
// file: [OpenState] locks it until [State.Close]. Its methods are safe
// for concurrent use.
type State struct {
	// Restarted, when not "", says why the records of an earlier run
	// were dropped (the project files changed, or an older format).
	Restarted string

	mu       sync.Mutex
	flushed  *sync.Cond // a flush ended
	f        *os.File
	path     string
	lock     *runLock
	done     map[int64]Record
	buf      []byte // lines not yet written
	queued   int64  // lines ever queued
	synced   int64  // lines written and synced
	flushing bool
	err      error // of the last flush
}

// OpenState opens the state file at path for job, creating it if need
// be, locks it for this run and reads which chunks are done. A file of
// another spec is refused with [ErrStateMismatch]; one that is not a
// state file, with [ErrNotStateFile], untouched; a record that no
// finished chunk of job leaves, with [ErrStateCorrupt]. Another run
// holding the file is [ErrLocked], or waited for with o.Wait.
func OpenState(ctx context.Context, path string, job *Job, o StateOptions) (*State, error) {
	path, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("opening state file: %w", err)
	}
	lock, err := lockRun(ctx, path, o.Wait)
	if err != nil {
		return nil, err
	}
	f, err := openRegular(path)
	if err != nil {
		lock.release()
		return nil, err
	}
	s := &State{f: f, path: path, lock: lock, done: map[int64]Record{}}
	s.flushed = sync.NewCond(&s.mu)
	head := stateHeader{Version: stateVersion, Spec: job.Hash, JobPath: job.Location, Inputs: o.Inputs}
	if err := s.load(path, head, job); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// openRegular opens path for appending, creating it, and refuses what is
// not a regular file without blocking on it (a FIFO opened without
// O_NONBLOCK waits for a writer).
func openRegular(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE|syscall.O_NONBLOCK, 0o644)
	if err != nil {
		if errors.Is(err, syscall.EISDIR) {
			return nil, fmt.Errorf("%w: %s is a folder", ErrNotStateFile, path)
		}
		return nil, fmt.Errorf("opening state file: %w", err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("opening state file: %w", err)
	}
	if !info.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%w: %s is a %s", ErrNotStateFile, path, fileKind(info.Mode()))
	}
	return f, nil
}

// fileKind names what a mode is, for messages.
func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "folder"
	case m&os.ModeNamedPipe != 0:
		return "FIFO"
	case m&os.ModeSocket != 0:
		return "socket"
	case m&os.ModeDevice != 0:
		return "device"
	}
	return "special file"
}

// load reads the file, drops a torn last line, and writes the header to
// an empty file (or one of an earlier run whose records no longer hold).
func (s *State) load(path string, want stateHeader, job *Job) error {
	data, err := io.ReadAll(s.f)
	if err != nil {
		return fmt.Errorf("reading state file %s: %w", path, err)
	}
	if len(data) == 0 {
		return s.restart(want, "")
	}
	nl := bytes.IndexByte(data, '\n')
	var head stateHeader
	if nl < 0 || json.Unmarshal(data[:nl], &head) != nil || head.Version < 1 || head.Spec == "" {
		return fmt.Errorf("%w: %s does not start with a helios-scaffold run state header: "+
			"it is left as it is; pass another --state", ErrNotStateFile, path)
	}
	if head.Spec != want.Spec {
		return fmt.Errorf("%w: %s was written for job spec %s (%s); this one is %s: remove it, or pass another --state",
			ErrStateMismatch, path, head.JobPath, head.Spec, want.Spec)
	}
	if head.Version != stateVersion {
		return s.restart(want, "the state file was written by an earlier helios-scaffold, which did not record the outputs' checksums")
	}
	if why := head.Inputs.Diff(want.Inputs); why != "" {
		return s.restart(want, "the project files changed since the recorded chunks were rendered ("+why+")")
	}
	whole := bytes.LastIndexByte(data, '\n') + 1 // a last line cut off mid-write is dropped
	if err := s.readRecords(path, data[nl+1:whole], job); err != nil {
		return err
	}
	if whole < len(data) {
		return s.truncate(whole)
	}
	return nil
}

// readRecords reads data, the lines after the header, as records of
// job's chunks.
func (s *State) readRecords(path string, data []byte, job *Job) error {
	chunks := make(map[int64]string, len(job.Spec.Chunks))
	for _, c := range job.Spec.Chunks {
		chunks[c.ID] = c.OutputFile
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for n := 2; sc.Scan(); n++ {
		var r rawRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return fmt.Errorf("%w: %s line %d: %w", ErrStateCorrupt, path, n, err)
		}
		if err := r.check(chunks); err != nil {
			return fmt.Errorf("%w: %s line %d: %w; remove the file to render every chunk again", ErrStateCorrupt, path, n, err)
		}
		rec := Record{Chunk: *r.Chunk, OutputURL: r.OutputURL, Attempt: r.Attempt, Hedge: r.Hedge}
		if r.Bytes != nil {
			rec.Bytes = *r.Bytes
		}
		if r.SHA256 != nil {
			rec.SHA256 = *r.SHA256
		}
		s.done[rec.Chunk] = rec
	}
	return sc.Err()
}

// check refuses a record that a finished chunk could not have left: no
// chunk, a chunk the spec does not have, or, for a chunk with an
// outputFile, no output location, size or well-formed checksum.
func (r rawRecord) check(chunks map[int64]string) error {
	if r.Chunk == nil {
		return errors.New("a record names no chunk")
	}
	file, ok := chunks[*r.Chunk]
	switch {
	case !ok:
		return fmt.Errorf("chunk %d is not in the spec", *r.Chunk)
	case file == "":
		return nil
	case r.OutputURL == "" || r.Bytes == nil || *r.Bytes < 0:
		return fmt.Errorf("chunk %d writes %s, but its record has no outputUrl and bytes", *r.Chunk, file)
	case r.SHA256 != nil && !isSHA256(*r.SHA256):
		return fmt.Errorf("chunk %d: sha256 %q is not a SHA-256", *r.Chunk, *r.SHA256)
	}
	return nil
}

// restart replaces the file with one that holds want as its header:
// written beside it, synced and renamed into place, so that a kill at
// any point leaves the old file or the new one, never a torn header
// (which would no longer read as a state file).
func (s *State) restart(want stateHeader, why string) error {
	s.Restarted = why
	clear(s.done)
	head, err := json.Marshal(want)
	if err != nil {
		return fmt.Errorf("writing state file: %w", err)
	}
	tmp, err := store.CreateTempBeside(s.path)
	if err != nil {
		return fmt.Errorf("writing state file: %w", err)
	}
	defer os.Remove(tmp.Name()) // gone once renamed
	_, err = tmp.Write(append(head, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), s.path)
	}
	if err != nil {
		return fmt.Errorf("writing state file: %w", err)
	}
	f, err := openRegular(s.path)
	if err != nil {
		return err
	}
	s.f.Close()
	s.f = f
	return nil
}

// truncate cuts the file at size; appends go on from there.
func (s *State) truncate(size int) error {
	if err := s.f.Truncate(int64(size)); err != nil {
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

// Forget makes chunk id count as not done in this run (its output did
// not hold up); the record it replaces stays in the file until the chunk
// finishes again and a newer one follows it.
func (s *State) Forget(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.done, id)
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

// Env is the entry that marks what this run starts ([EnvRun]); set it in
// the environment of its chunks and merge, or in the process's own.
func (s *State) Env() string { return EnvRun + "=" + s.path }

// Killed is how many leftovers of a killed run on this state file
// OpenState found and killed: chunks or a merge that outlived it.
func (s *State) Killed() int { return s.lock.killed }

// Close closes the file and gives up the run's lock on it.
func (s *State) Close() error {
	err := s.f.Close()
	s.lock.release()
	return err
}

// isSHA256 reports whether s is 64 lower-case hex digits.
func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := range len(s) {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
