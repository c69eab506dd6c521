// Command helios-scaffold renders a Helios render worker for AWS Lambda or
// Google Cloud Run into a Go repository, keeps it regenerable from go
// generate without losing the user's edits, and renders whole job specs on
// the deployed workers (or locally) with run.
//
// Usage:
//
//	helios-scaffold init aws [flags]
//	helios-scaffold init cloudrun [flags]
//	helios-scaffold generate [--check]
//	helios-scaffold run JOB [--target local|aws|cloudrun] [flags]
//	helios-scaffold version
//
// Exit codes: 0 success, 1 failure, 2 bad usage or input, 3 conflicting
// files (nothing written), 4 drift found by generate --check, 130 and 143
// a run interrupted by SIGINT or SIGTERM (its state kept).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/helios-project/helios-scaffold/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
