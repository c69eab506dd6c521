// Command cloudrunworker is the Cloud Run entry point that helios-scaffold generates,
// with the default worker.go folded in; the runtime's tests and benchmarks
// build it. The generated files themselves are in examples/, whose tests
// build and run them too.
//
// Built with -tags nostore it links no Cloud Storage store: the bench
// program builds both, to measure what the store costs in size and cold
// start.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/helios-project/helios-scaffold/runtime/cloudrun"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := cloudrun.Serve(ctx, withStore(worker.New(worker.ConfigFromEnv()))); err != nil {
		fmt.Fprintln(os.Stderr, "helios worker:", err)
		os.Exit(1)
	}
}
