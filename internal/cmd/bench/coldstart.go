package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"syscall"
	"time"

	"github.com/helios-project/helios-scaffold/internal/syncbuf"
)

// measureColdStart takes the median time from exec to the first answered
// request for the Cloud Run binary, and the Lambda binary's INIT duration
// as the Runtime Interface Emulator reports it, with its exec-to-answer;
// each for the binaries as shipped (with their bucket store) and, taken in
// turn with them, without the store; and the naive Go server's (see
// naive.go), taken in turn with them too.
func measureColdStart(ctx context.Context, r *report, b binaries, j jobs, dir string, o options) error {
	naiveBin, err := naiveBinary(ctx, dir)
	if err != nil {
		return err
	}
	var with, bare coldStarts
	var naive []time.Duration
	for range o.coldRuns {
		srv, d, err := startServer(ctx, naiveBin, dir, j.event(chunkTrue))
		if err != nil {
			return fmt.Errorf("naive server: %w", err)
		}
		srv.stop()
		naive = append(naive, d)
		if err := with.take(ctx, b.rie, b.cloudrun, b.lambda, j, dir); err != nil {
			return err
		}
		if err := bare.take(ctx, b.rie, b.cloudrunBare, b.lambdaBare, j, dir); err != nil {
			return err
		}
	}
	cr, id, lam := median(with.cloudrun), median(with.init), median(with.lambda)
	r.add("cold start, Cloud Run: exec to first answered request", ms(cr), "89 ms (Node.js, measured earlier)",
		fmt.Sprintf("%.3f of Node", float64(cr)/float64(89*time.Millisecond)))
	nv := median(naive)
	r.add("cold start, Cloud Run vs the naive Go server: exec to first answered request", ms(cr),
		ms(nv)+" (naive Go server)", fmt.Sprintf("%.2fx; without the store %s, %.2fx", float64(cr)/float64(nv),
			ms(median(bare.cloudrun)), float64(median(bare.cloudrun))/float64(nv)))
	r.add("cold start, Lambda: `INIT REPORT` under the emulator", ms(id), "78 ms (Node.js, measured earlier)",
		fmt.Sprintf("%.3f of Node", float64(id)/float64(78*time.Millisecond)))
	r.add("cold start, Lambda: exec of the emulator to first answer", ms(lam), "", "")
	ratio := func(a, b time.Duration) string { return fmt.Sprintf("%.2fx (target ≤ 2x)", float64(a)/float64(b)) }
	r.add("cold start, Cloud Run, GCS store linked vs not: exec to first answer", ms(cr), ms(median(bare.cloudrun))+" without the store",
		ratio(cr, median(bare.cloudrun)))
	r.add("cold start, Lambda, S3 store linked vs not: `INIT REPORT`", ms(id), ms(median(bare.init))+" without the store",
		ratio(id, median(bare.init)))
	return nil
}

// coldStarts collects the figures of one pair of binaries.
type coldStarts struct{ cloudrun, init, lambda []time.Duration }

func (c *coldStarts) take(ctx context.Context, rie, cloudrun, bootstrap string, j jobs, dir string) error {
	srv, d, err := startServer(ctx, cloudrun, dir, j.event(chunkTrue))
	if err != nil {
		return err
	}
	srv.stop()
	c.cloudrun = append(c.cloudrun, d)
	id, d, err := lambdaColdStart(ctx, rie, bootstrap, j, dir)
	if err != nil {
		return err
	}
	c.init, c.lambda = append(c.init, id), append(c.lambda, d)
	return nil
}

var initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// lambdaColdStart runs the emulator with the bootstrap, invokes it once and
// returns the INIT REPORT duration and the time from exec to the answer.
func lambdaColdStart(ctx context.Context, rie, bootstrap string, j jobs, dir string) (time.Duration, time.Duration, error) {
	port, err := freePort()
	if err != nil {
		return 0, 0, err
	}
	apiPort, err := freePort()
	if err != nil {
		return 0, 0, err
	}
	logs := &syncbuf.Buffer{}
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", "127.0.0.1:"+port,
		"--runtime-api-address", "127.0.0.1:"+apiPort, bootstrap)
	cmd.Env = append(os.Environ(), "HELIOS_WORKSPACE_ROOT="+dir)
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	}()
	url := "http://127.0.0.1:" + port + "/2015-03-31/functions/function/invocations"
	client := &http.Client{Timeout: 10 * time.Second}
	for deadline := start.Add(10 * time.Second); time.Now().Before(deadline) && ctx.Err() == nil; time.Sleep(200 * time.Microsecond) {
		resp, err := client.Post(url, "application/json", bytes.NewReader(j.event(chunkTrue)))
		if err != nil {
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		answered := time.Since(start)
		if !bytes.Contains(body, []byte(`"statusCode":200`)) {
			return 0, 0, fmt.Errorf("lambda answered %s", body)
		}
		m := initReport.FindSubmatch(logs.Bytes())
		if m == nil {
			return 0, 0, fmt.Errorf("no INIT REPORT in the emulator's log:\n%s", logs.Bytes())
		}
		f, _ := strconv.ParseFloat(string(m[1]), 64)
		return time.Duration(f * float64(time.Millisecond)), answered, nil
	}
	return 0, 0, fmt.Errorf("the emulator did not answer within 10s:\n%s", logs.Bytes())
}
