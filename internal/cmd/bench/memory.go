package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
)

// measureRSS reads the Cloud Run server's resident memory after its first
// request and its peak after chunks printing the big and the huge output,
// and the Lambda binary's peak under the emulator for the big output.
func measureRSS(ctx context.Context, r *report, b binaries, j jobs, dir string, o options) error {
	err := withServer(ctx, b, j, dir, func(srv *server) error { return serverRSS(r, srv, j, o) })
	if err != nil {
		return err
	}
	peak, err := lambdaPeakUnderEmulator(ctx, b, dir, jobspec.Request{JobPath: j.spec, ChunkIndex: chunkBig})
	if err != nil {
		return err
	}
	r.add(fmt.Sprintf("peak RSS, Lambda binary under the emulator, chunk printing %s", size(o.bigOutput)), mib(peak), "", "")
	return nil
}

// serverRSS reads a running server's RSS after its first request, then its
// peak after each of the big chunks.
func serverRSS(r *report, srv *server, j jobs, o options) error {
	pid := srv.cmd.Process.Pid
	idle, err := procStatus(pid, "VmRSS")
	if err != nil {
		return err
	}
	r.add("RSS idle, Cloud Run server after its first request", mib(idle), "47 MB (Node.js, measured earlier)", "")
	client := &http.Client{Timeout: 5 * time.Minute}
	for _, c := range []struct {
		chunk int
		bytes int64
	}{{chunkBig, o.bigOutput}, {chunkHuge, o.hugeBytes}} {
		if err := srv.post(client, j.event(c.chunk)); err != nil {
			return fmt.Errorf("chunk printing %d bytes: %w", c.bytes, err)
		}
		peak, err := procStatus(pid, "VmHWM")
		if err != nil {
			return err
		}
		r.add(fmt.Sprintf("peak RSS, Cloud Run server, chunk printing %s", size(c.bytes)), mib(peak),
			"331 MB for 55 MB (Node.js, measured earlier)", "")
	}
	return nil
}

func size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.0f GiB", float64(n)/(1<<30))
	case n >= 1e6:
		return fmt.Sprintf("%.0f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%d bytes", n)
}

// measureSize reports the size of the Lambda binary built with
// CGO_ENABLED=0 -trimpath -ldflags='-s -w' -tags lambda.norpc.
func measureSize(r *report, b binaries) error {
	for _, x := range []struct{ what, path, bare, target string }{
		{"Lambda binary with the S3 store (`CGO_ENABLED=0 -trimpath -ldflags='-s -w' -tags lambda.norpc`)", b.lambda, b.lambdaBare, "target ≤ 16 MB"},
		{"Cloud Run binary with the GCS store (same flags)", b.cloudrun, b.cloudrunBare, "target ≤ 20 MB"},
	} {
		n, err := fileSize(x.path)
		if err != nil {
			return err
		}
		bare, err := fileSize(x.bare)
		if err != nil {
			return err
		}
		r.add("size of the "+x.what, fmt.Sprintf("%.1f MB", float64(n)/1e6),
			fmt.Sprintf("%.1f MB without the store", float64(bare)/1e6), x.target)
	}
	return nil
}

func fileSize(name string) (int64, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}
