// Command cloudrunworker is the Cloud Run entry point exactly as
// helios-scaffold generates it; the tests and benchmarks build it.
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
	if err := cloudrun.Serve(ctx, worker.New(worker.ConfigFromEnv())); err != nil {
		fmt.Fprintln(os.Stderr, "helios worker:", err)
		os.Exit(1)
	}
}
