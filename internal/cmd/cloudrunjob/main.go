// Command cloudrunjob is the Cloud Run job entry point that helios-scaffold
// generates (init cloudrun --kind job), with the default worker.go folded
// in; the runtime's tests build it and run it once per task, as Cloud Run
// would. The generated files themselves are in examples/cloud-run-job.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/helios-project/helios-scaffold/runtime/cloudrun"
	"github.com/helios-project/helios-scaffold/runtime/gcsstore"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	w := worker.New(worker.ConfigFromEnv(), worker.WithDefaultSource("gs", gcsstore.New()))
	code := cloudrun.RunTask(ctx, w)
	stop()
	os.Exit(code)
}
