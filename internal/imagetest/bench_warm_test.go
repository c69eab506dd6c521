package imagetest

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// envBenchWarm turns on TestBenchWarmRenderer, which takes a few minutes
// of rendering: HELIOS_BENCH_WARM=1 go test -run TestBenchWarmRenderer -v ./internal/imagetest
const envBenchWarm = "HELIOS_BENCH_WARM"

// benchRounds is how many times each chunk renders on each instance.
const benchRounds = 5

// TestBenchWarmRenderer measures, in the --deps helios Cloud Run image,
// the time of one chunk of 30 frames and one of 150 (1280x720, the
// fixture's composition) on a warm instance: through the warm renderer,
// and through the Helios CLI as a process (HELIOS_WARM_RENDERER=off).
// Two containers of the image serve; each call is a whole invocation
// (spec read, render, upload to fake-gcs-server), timed by the client;
// the two take turns, after one call each to warm up. It reports the
// median of benchRounds calls and their range, and the ratio of the
// medians; it asserts nothing about time, only that every call rendered
// its frames and the warm one ran warm.
func TestBenchWarmRenderer(t *testing.T) {
	if os.Getenv(envBenchWarm) != "1" {
		t.Skipf("a benchmark of a few minutes: %s=1 runs it", envBenchWarm)
	}
	p := setup(t)
	repo := project(t, withLockfile, "init", "cloudrun", "--module", "example.com/render",
		"--project", "my-project", "--deps", "helios")
	const tag = "localhost/imagetest-cloudrun-helios:test"
	buildRenderImage(t, p, repo, tag, startSnapshotArchive(t))
	j, gcs := heliosJobInGCS(t, p, tag)

	// The emitted chunk's command, at 1280x720, for 30 and 150 frames.
	spec := map[string]any{}
	for k, v := range j.spec {
		spec[k] = v
	}
	base := strings.NewReplacer("--width 320", "--width 1280", "--height 180", "--height 720").Replace(j.chunks[0].Command)
	var chunks []chunk
	for i, n := range []int{30, 150} {
		out := fmt.Sprintf("bench_%d.mp4", n)
		cmd := strings.Replace(strings.Replace(base, j.chunks[0].OutputFile, out, 1), "--frame-count 30", "--frame-count "+strconv.Itoa(n), 1)
		chunks = append(chunks, chunk{ID: int64(i), OutputFile: out, Command: cmd})
	}
	spec["chunks"], spec["assetsUrl"], spec["outputUrl"] = chunks, "gs://renders/project", "gs://renders/out"
	data, _ := json.Marshal(spec)
	gcs.PutObject("renders", "jobs/bench.json", data)

	serve := func(env ...string) string {
		port := freePort(t)
		args := []string{"--network", "host", "-e", "PORT=" + strconv.Itoa(port), "-e", gcs.Env()}
		for _, e := range env {
			args = append(args, "-e", e)
		}
		c := p.start(t, append(args, tag)...)
		url := fmt.Sprintf("http://127.0.0.1:%d/", port)
		waitListening(t, c, url[len("http://"):len(url)-1])
		return url
	}
	instances := []struct{ name, url, renderer string }{
		{"cold (the CLI)", serve("HELIOS_WARM_RENDERER=off"), "process"},
		{"warm", serve(), "warm"},
	}
	render := func(url, renderer string, ch chunk) time.Duration {
		start := time.Now()
		status, _, body := call(t, "POST", url, fmt.Sprintf(`{"jobPath": "gs://renders/jobs/bench.json", "chunkIndex": %d}`, ch.ID))
		took := time.Since(start)
		if status != 200 || body["renderer"] != renderer {
			t.Fatalf("chunk of %d frames: status %d, %v; want 200, %s", ch.frameCount(t), status, body, renderer)
		}
		obj, ok := gcs.Object("renders", "out/"+ch.OutputFile)
		if !ok {
			t.Fatalf("no gs://renders/out/%s", ch.OutputFile)
		}
		checkVideo(t, ch, obj.Content)
		return took
	}
	for _, ch := range chunks {
		times := make([][]time.Duration, len(instances))
		for _, in := range instances {
			render(in.url, in.renderer, ch) // warms the instance up
		}
		for range benchRounds {
			for i, in := range instances {
				times[i] = append(times[i], render(in.url, in.renderer, ch))
			}
		}
		med := make([]time.Duration, len(instances))
		for i, in := range instances {
			ts := slices.Sorted(slices.Values(times[i]))
			med[i] = ts[len(ts)/2]
			t.Logf("%3d frames, %-15s median %v (%v to %v) of %d", ch.frameCount(t), in.name,
				med[i].Round(time.Millisecond), ts[0].Round(time.Millisecond), ts[len(ts)-1].Round(time.Millisecond), len(ts))
		}
		t.Logf("%3d frames: warm is %.2fx as fast as the CLI (ratio of the medians)", ch.frameCount(t), float64(med[0])/float64(med[1]))
	}
}
