package awslambda

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// maxEventBytes bounds a stdin event, as Lambda bounds a request payload.
const maxEventBytes = 6 << 20

// Start serves w and does not return.
//
// Inside Lambda (or its Runtime Interface Emulator), where
// AWS_LAMBDA_RUNTIME_API is set, it serves invocations through the Runtime
// API, logging JSON lines to standard output. Elsewhere it reads one event
// from standard input, prints the response on standard output, and exits 0
// when the status is 200 and 1 otherwise; logs and the chunk's own output
// go to standard error, so that standard output holds only the response.
//
// A configuration that does not validate stops the process at once with
// the reason, which Lambda reports as an init error.
func Start(w *worker.Worker) {
	if os.Getenv("AWS_LAMBDA_RUNTIME_API") == "" {
		os.Exit(runStdin(w, os.Stdin, os.Stdout, os.Stderr))
	}
	slog.SetDefault(slog.New(NewLogHandler(os.Stdout)))
	if err := w.Config().Validate(); err != nil {
		slog.Error("invalid worker configuration", "error", err)
		os.Exit(1)
	}
	lambda.Start(NewHandler(w))
}

// runStdin answers the one event read from in and returns the exit code.
func runStdin(w *worker.Worker, in io.Reader, out, errOut io.Writer) int {
	slog.SetDefault(slog.New(NewLogHandler(errOut)))
	if err := w.Config().Validate(); err != nil {
		slog.Error("invalid worker configuration", "error", err)
		return 1
	}
	event, err := io.ReadAll(io.LimitReader(in, maxEventBytes+1))
	if err != nil {
		slog.Error("reading event from standard input", "error", err)
		return 1
	}
	if len(event) > maxEventBytes {
		slog.Error("event on standard input is larger than Lambda's 6 MB request limit")
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	w = w.With(worker.WithPassthrough(errOut, errOut))
	resp := NewHandler(w).Respond(ctx, event)
	if _, err := fmt.Fprintf(out, "%s\n", marshal(resp)); err != nil {
		return 1
	}
	if resp.StatusCode != 200 {
		return 1
	}
	return 0
}
