package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// measureRSS reads the Cloud Run server's resident memory after its first
// request and its peak after chunks printing the big and the huge output,
// and the Lambda binary's peak (stdin mode) for the big output.
func measureRSS(ctx context.Context, r *report, b binaries, j jobs, dir string, o options) error {
	err := withServer(ctx, b, j, dir, func(srv *server) error { return serverRSS(r, srv, j, o) })
	if err != nil {
		return err
	}
	peak, err := lambdaPeak(ctx, b, j, dir)
	if err != nil {
		return err
	}
	r.add(fmt.Sprintf("peak RSS, Lambda binary (stdin mode), chunk printing %s", size(o.bigOutput)), mib(peak), "", "")
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

// lambdaPeak runs the Lambda binary in stdin mode on the big chunk and
// returns its peak RSS in kB from wait4's rusage.
func lambdaPeak(ctx context.Context, b binaries, j jobs, dir string) (int64, error) {
	cmd := exec.CommandContext(ctx, b.lambda)
	cmd.Env = append(os.Environ(), "HELIOS_WORKSPACE_ROOT="+dir, "AWS_LAMBDA_RUNTIME_API=")
	cmd.Stdin = bytes.NewReader(j.event(chunkBig))
	if out, err := cmd.Output(); err != nil {
		return 0, fmt.Errorf("lambda stdin mode: %w: %.300s", err, out)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, fmt.Errorf("no rusage")
	}
	return ru.Maxrss, nil
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
