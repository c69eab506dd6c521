//go:build !nostore

package main

import (
	"github.com/helios-project/helios-scaffold/runtime/gcsstore"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// withStore wires the Cloud Storage store, as the generated main.go does.
func withStore(w *worker.Worker) *worker.Worker {
	return w.With(worker.WithDefaultSource("gs", gcsstore.New()))
}
