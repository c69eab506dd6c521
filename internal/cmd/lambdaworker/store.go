//go:build !nostore

package main

import (
	"github.com/helios-project/helios-scaffold/runtime/s3store"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// withStore wires the S3 store, as the generated main.go does.
func withStore(w *worker.Worker) *worker.Worker {
	return w.With(worker.WithDefaultSource("s3", s3store.New()))
}
