//go:build nostore

package main

import "github.com/helios-project/helios-scaffold/runtime/worker"

// withStore wires nothing: the baseline the bench compares the store with.
func withStore(w *worker.Worker) *worker.Worker { return w }
