package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/helios-project/helios-scaffold/internal/lambdatest"
	"github.com/helios-project/helios-scaffold/internal/s3test"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// transferRSS is the peak RSS of the worker processes, as users deploy
// them, through one chunk that downloads the big asset and uploads an
// output of o.outputBytes: the Lambda binary under the emulator with
// moto_server, the Cloud Run binary with fake-gcs-server. The chunk
// hard-links a file made beforehand, so that the figure is the
// transfers'.
func transferRSS(ctx context.Context, r *report, b binaries, j jobs, dir, output string, o options, s3, gcs *storeBench, moto *s3test.Server, fake *fakeGCS) error {
	chunk := []map[string]any{{"id": 0, "command": "ln " + output + " out.bin", "outputFile": "out.bin"}}
	what := fmt.Sprintf("a %s asset in, a %s output out", size(o.assetBig), size(o.outputBytes))
	spec, err := s3.writeSpec(ctx, dir, map[string]any{"assetsUrl": s3.url("assets/big"), "outputUrl": s3.url("rss"), "chunks": chunk})
	if err != nil {
		return err
	}
	peak, err := lambdaUploadPeak(ctx, b, dir, spec, moto)
	if err != nil {
		return err
	}
	r.add("peak RSS, Lambda binary under the emulator, S3: "+what, mib(peak), "", "target < 64 MB")

	spec, err = gcs.writeSpec(ctx, dir, map[string]any{"assetsUrl": gcs.url("assets/big"), "outputUrl": gcs.url("rss"), "chunks": chunk})
	if err != nil {
		return err
	}
	srv, _, err := startServer(ctx, b.cloudrun, dir, j.event(chunkTrue), fake.env())
	if err != nil {
		return err
	}
	defer srv.stop()
	client := &http.Client{Timeout: 10 * time.Minute}
	if err := srv.post(client, []byte(fmt.Sprintf(`{"jobPath":%q,"chunkIndex":0}`, spec))); err != nil {
		return fmt.Errorf("cloud run transfers: %w", err)
	}
	peak, err = procStatus(srv.cmd.Process.Pid, "VmHWM")
	if err != nil {
		return err
	}
	r.add("peak RSS, Cloud Run binary, GCS: "+what, mib(peak), "", "target < 64 MB")
	return nil
}

// lambdaUploadPeak invokes the Lambda binary once under the emulator,
// with moto_server as its S3, and returns the bootstrap's peak RSS in kB.
func lambdaUploadPeak(ctx context.Context, b binaries, dir, spec string, moto *s3test.Server) (int64, error) {
	return lambdaPeakUnderEmulator(ctx, b, dir, jobspec.Request{JobPath: spec},
		"AWS_ENDPOINT_URL_S3="+moto.Endpoint, "AWS_REGION="+s3test.Region,
		"AWS_ACCESS_KEY_ID="+s3test.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+s3test.SecretAccessKey,
		"HELIOS_S3_FORCE_PATH_STYLE=true")
}

// lambdaPeakUnderEmulator invokes the Lambda binary once under the
// emulator, with env added, and returns the bootstrap's peak RSS in kB,
// read from /proc while it still runs. (wait4's rusage would count what
// the bench itself held before the exec.)
func lambdaPeakUnderEmulator(ctx context.Context, b binaries, dir string, req jobspec.Request, env ...string) (int64, error) {
	emu, err := lambdatest.Start(lambdatest.Binaries{RIE: b.rie, Bootstrap: b.lambda}, lambdatest.Options{
		Dir: dir, Env: append(env, worker.EnvWorkspaceRoot+"="+dir, "HELIOS_PASSTHROUGH=false"), FunctionTimeout: 900,
	})
	if err != nil {
		return 0, err
	}
	defer emu.Stop()
	inv := emu.Call(ctx, req)
	if inv.Err != nil || !inv.Result.OK() {
		return 0, fmt.Errorf("lambda invocation: %+v %v\n%s", inv.Result, inv.Err, emu.Report(10, 20))
	}
	pids := lambdatest.ProcessesWithArgs(b.lambda)
	if len(pids) != 1 {
		return 0, fmt.Errorf("found %d bootstrap processes (%v), want 1", len(pids), pids)
	}
	return procStatus(pids[0], "VmHWM")
}
