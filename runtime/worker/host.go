package worker

import (
	"io"
	"log/slog"
	"slices"
	"sync"

	"github.com/helios-project/helios-scaffold/runtime/store"
)

// What the worker binary's other modes (the merge of runtime/worker/merge)
// take from a Worker, so that they read the same stores, give their
// commands the same environment and log where its chunks do.

// Source returns the [store.Source] that the worker reads location
// through: the one that [WithSource] or [WithDefaultSource] set for its
// scheme, or a built-in one; an error wrapping [store.ErrNoSource] when
// it has none.
func (w *Worker) Source(location string) (store.Source, error) {
	return w.source(store.ParseLocation(location))
}

// Env returns the entries that [WithEnv] adds to every chunk's
// environment.
func (w *Worker) Env() []string { return slices.Clone(w.env) }

// Logger returns the logger of the worker's own messages: the one
// [WithLogger] set, else slog.Default().
func (w *Worker) Logger() *slog.Logger { return w.log() }

// Passthrough returns where a command's output is copied live when
// Config.Passthrough is on: the worker's standard output and error, or
// what [WithPassthrough] set, each written under the lock that keeps the
// lines of chunks running at once whole. A caller writes whole lines.
func (w *Worker) Passthrough() (stdout, stderr io.Writer) {
	return lockedWriter{w.logMu, w.stdout}, lockedWriter{w.logMu, w.stderr}
}

// lockedWriter writes to w under mu.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
