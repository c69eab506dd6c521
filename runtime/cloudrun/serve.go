package cloudrun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// cancelGrace is how long cancelled chunks get to be killed and answered
// after the shutdown grace, before connections are closed.
const cancelGrace = time.Second

// Serve serves w on all interfaces on $PORT (8080 when unset) until ctx is
// done, then shuts down gracefully, removes the worker's asset cache and
// returns nil. Logs go to standard
// output as Cloud Logging JSON lines. It fails at once when the
// configuration does not validate or the port cannot be listened on.
func Serve(ctx context.Context, w *worker.Worker) error {
	slog.SetDefault(slog.New(NewLogHandler(os.Stdout, slog.LevelInfo)))
	if err := w.Config().Validate(); err != nil {
		return fmt.Errorf("invalid worker configuration: %w", err)
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	ln, err := net.Listen("tcp", ":"+port)
	if err != nil {
		return fmt.Errorf("listening on port %s: %w", port, err)
	}
	err = ServeListener(ctx, ln, NewHandler(w, ProjectID(ctx)), w.Config().ShutdownGrace)
	if cerr := w.Close(); cerr != nil {
		slog.Error("removing the asset cache", "error", cerr)
	}
	return err
}

// ServeListener serves h on ln until ctx is done. Then it stops accepting,
// lets running requests finish within grace, cancels those still running
// (their chunks are killed and answered), waits a little for their
// answers, closes what is left and returns nil. It closes ln.
func ServeListener(ctx context.Context, ln net.Listener, h http.Handler, grace time.Duration) error {
	chunks, cancelChunks := context.WithCancel(context.Background())
	defer cancelChunks()
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// Requests are not cancelled by ctx: SIGTERM must let them finish.
		BaseContext: func(net.Listener) context.Context { return chunks },
		ErrorLog:    slog.NewLogLogger(slog.Default().Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	slog.Info("listening", "address", ln.Addr().String())

	select {
	case err := <-served:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	slog.Info("shutting down", "grace", grace.String())
	if err := shutdown(srv, grace); err != nil {
		slog.Warn("grace period over, cancelling running chunks")
		cancelChunks()
		if err := shutdown(srv, cancelGrace); err != nil {
			_ = srv.Close()
		}
	}
	<-served
	slog.Info("shut down")
	return nil
}

func shutdown(srv *http.Server, within time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	return srv.Shutdown(ctx)
}

// ProjectID returns the Google Cloud project id for trace links: from
// GOOGLE_CLOUD_PROJECT, else, on Cloud Run (K_SERVICE set), from the
// metadata server within two seconds; "" when neither says.
func ProjectID(ctx context.Context) string {
	if p := os.Getenv("GOOGLE_CLOUD_PROJECT"); p != "" {
		return p
	}
	if os.Getenv("K_SERVICE") == "" {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		"http://metadata.google.internal/computeMetadata/v1/project/project-id", nil)
	if err != nil {
		return ""
	}
	req.Header.Set("Metadata-Flavor", "Google")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		slog.Warn("no project id for trace links", "error", err)
		return ""
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256))
	if err != nil || resp.StatusCode != http.StatusOK {
		slog.Warn("no project id for trace links", "status", resp.Status, "error", errors.Join(err))
		return ""
	}
	return strings.TrimSpace(string(b))
}
