package merge_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/fanout/probe"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
	"github.com/helios-project/helios-scaffold/runtime/worker/merge"
)

// The outputs of three chunks, proven, are merged and the merged video,
// checked with ffprobe, is uploaded beside them; the workspace is gone
// afterwards, and so is the one a killed merge left.
func TestMerge(t *testing.T) {
	t.Parallel()
	needVideo(t)
	w := newWorld(t, 3, "")
	// What a merge killed by a Lambda hard timeout left: no one holds it.
	stale := filepath.Join(w.Root, "helios-job-m--1-123456", "work")
	if err := os.MkdirAll(stale, 0o755); err != nil {
		t.Fatal(err)
	}
	res := merge.Run(testdeadline.Context(t), w.worker(), w.request())
	if !res.OK() || res.Status() != 200 {
		t.Fatalf("merge: status %d, %q (stderr %q)", res.Status(), res.Message(), res.Stderr)
	}
	path, ok := w.merged()
	if !ok {
		t.Fatal("merged.mp4 is not in the output folder")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if res.OutputURL != "file://"+path || res.OutputBytes != int64(len(data)) || res.OutputSHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("uploaded %s, %d bytes, SHA-256 %s; want file://%s, %d, %x", res.OutputURL, res.OutputBytes, res.OutputSHA256, path, len(data), sum)
	}
	if res.Chunks != 3 || res.Frames != 3*partFrames || res.Warning != "" {
		t.Errorf("chunks %d, frames %d, warning %q; want 3, %d, none", res.Chunks, res.Frames, res.Warning, 3*partFrames)
	}
	p, _ := probe.Find()
	if r, err := p.Check(testdeadline.Context(t), path, probe.Want{Frames: 3 * partFrames, FPS: fps}); err != nil {
		t.Errorf("the merged video: %v (%+v)", err, r)
	}
	w.checkRootEmpty(t)
}

// What must not be merged is not: each case fails with a 500 that names
// the chunk, uploads nothing, and leaves no workspace.
func TestMergeRefuses(t *testing.T) {
	t.Parallel()
	needVideo(t)
	for _, tc := range []struct {
		name    string
		merge   string // the mergeCommand, concat(3) when ""
		prepare func(t *testing.T, w *world, req *jobspec.MergeRequest)
		kind    worker.Kind
		ran     bool // the mergeCommand ran
		exit    int  // its exit code
		want    []string
	}{
		{name: "a part tampered with", kind: worker.KindOutput,
			prepare: func(t *testing.T, w *world, _ *jobspec.MergeRequest) {
				p := filepath.Join(w.Out, partName(1))
				data, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				data[len(data)/2] ^= 0xff // same size, other bytes
				if err := os.WriteFile(p, data, 0o644); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{"1 of 3 chunks' outputs do not hold up (chunk 1)", "chunk 1: collecting chunk 1", "output does not match what its worker put", "SHA-256"}},
		{name: "a part short of frames", kind: worker.KindOutput,
			prepare: func(t *testing.T, w *world, req *jobspec.MergeRequest) {
				encode(t, filepath.Join(w.Out, partName(2)), partFrames-4)
				req.Outputs[2] = w.output(t, 2) // as its worker put it: proven, and short
			},
			want: []string{"1 of 3 chunks' outputs are not the video their chunks render (chunk 2)", "has 6 frames; want 10"}},
		{name: "a chunk missing", kind: worker.KindOutput,
			prepare: func(_ *testing.T, _ *world, req *jobspec.MergeRequest) {
				req.Outputs = append(req.Outputs[:1], req.Outputs[2:]...)
			},
			want: []string{"1 of 3 chunks have no output to merge (chunk 1): not in the outputs"}},
		{name: "a part not there", kind: worker.KindOutput,
			prepare: func(t *testing.T, w *world, _ *jobspec.MergeRequest) {
				if err := os.Remove(filepath.Join(w.Out, partName(0))); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{"(chunk 0)", partName(0) + " is not there"}},
		{name: "an output of another chunk", kind: worker.KindOutput,
			prepare: func(_ *testing.T, _ *world, req *jobspec.MergeRequest) {
				req.Outputs[0].OutputURL, req.Outputs[1].OutputURL = req.Outputs[1].OutputURL, req.Outputs[0].OutputURL
			},
			want: []string{"the outputs are not all the job's: chunk 0: outputUrl", "is not where its worker puts its output"}},
		{name: "a chunk not in the spec", kind: worker.KindOutput,
			prepare: func(_ *testing.T, _ *world, req *jobspec.MergeRequest) { req.Outputs[2].Chunk = 9 },
			want:    []string{"chunk 9: the job spec has no such chunk"}},
		{name: "the mergeCommand fails", merge: `sh -c 'echo no merge today >&2; exit 3' merged.mp4`, kind: worker.KindFailed, ran: true, exit: 3,
			want: []string{"mergeCommand exited with code 3"}},
		{name: "the mergeCommand drops a part", kind: worker.KindOutput, ran: true,
			merge: `sh -c 'printf "file %s\n" out_part_0.mp4 out_part_2.mp4 > list.txt && exec ffmpeg -nostdin -v error -y -f concat -safe 0 -i list.txt -c copy merged.mp4'`,
			want:  []string{"the merged video merged.mp4 has 20 frames; want 30", "dropped or repeated frames"}},
		{name: "the mergeCommand writes no video", merge: `true merged.mp4`, kind: worker.KindOutput, ran: true,
			want: []string{"the mergeCommand exited 0 without writing merged.mp4"}},
		{name: "no merged video named", merge: `helios merge out_part_0.mp4 out_part_1.mp4`, kind: worker.KindSpec,
			want: []string{"the mergeCommand names no one video file that no chunk's command does"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, 3, tc.merge)
			req := w.request()
			if tc.prepare != nil {
				tc.prepare(t, w, &req)
			}
			res := merge.Run(testdeadline.Context(t), w.worker(), req)
			if res.Status() != 500 || res.Kind() != tc.kind {
				t.Errorf("status %d, kind %q; want 500, %q (%s)", res.Status(), res.Kind(), tc.kind, res.Message())
			}
			if res.Started != tc.ran || res.ExitCode != tc.exit {
				t.Errorf("started %v, exit code %d; want %v, %d", res.Started, res.ExitCode, tc.ran, tc.exit)
			}
			for _, s := range tc.want {
				if !strings.Contains(res.Message(), s) {
					t.Errorf("message %q does not say %q", res.Message(), s)
				}
			}
			if res.OutputURL != "" {
				t.Errorf("uploaded to %s", res.OutputURL)
			}
			if _, ok := w.merged(); ok {
				t.Error("merged.mp4 is in the output folder")
			}
			w.checkRootEmpty(t)
		})
	}
}

// The merge reads the chunks' outputs from a Distributed Map's results,
// and fails naming the chunks that a failed child left without one.
func TestMergeFromResults(t *testing.T) {
	t.Parallel()
	needVideo(t)
	w := newWorld(t, 3, "")
	results := filepath.Join(w.Dir, "results", runID)
	if err := os.MkdirAll(results, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name string, v any) {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(results, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	record := func(o jobspec.ChunkOutput) map[string]any {
		body, _ := json.Marshal(map[string]any{"exitCode": 0, "outputUrl": o.OutputURL, "outputBytes": o.OutputBytes, "outputSha256": o.OutputSHA256})
		out, _ := json.Marshal(map[string]any{"statusCode": 200, "body": string(body)})
		in, _ := json.Marshal(map[string]any{"jobPath": w.Spec, "chunkIndex": o.Chunk})
		return map[string]any{"Name": "child", "Status": "SUCCEEDED", "Input": string(in), "Output": string(out)}
	}
	manifest := map[string]any{"DestinationBucket": "b", "MapRunArn": "arn", "ResultFiles": map[string]any{
		"SUCCEEDED": []map[string]any{{"Key": "results/" + runID + "/SUCCEEDED_0.json", "Size": 1}},
		"FAILED":    []map[string]any{{"Key": "results/" + runID + "/FAILED_0.json", "Size": 1}},
	}}
	write("manifest.json", manifest)
	write("SUCCEEDED_0.json", []any{record(w.Outputs[0]), record(w.Outputs[2])})
	in, _ := json.Marshal(map[string]any{"jobPath": w.Spec, "chunkIndex": 1})
	write("FAILED_0.json", []any{map[string]any{"Name": "child-1", "Status": "FAILED", "Input": string(in),
		"Error": "Lambda.AWSLambdaException", "Cause": "Rate Exceeded."}})
	req := jobspec.MergeRequest{JobPath: w.Spec, ResultsURL: "file://" + filepath.Join(results, "manifest.json")}

	res := merge.Run(testdeadline.Context(t), w.worker(), req)
	want := "1 of 3 chunks have no output to merge (chunk 1): chunk 1: Lambda.AWSLambdaException: Rate Exceeded."
	if res.Status() != 500 || res.Kind() != worker.KindOutput || res.Message() != want {
		t.Errorf("status %d, kind %q, message %q; want 500, output, %q", res.Status(), res.Kind(), res.Message(), want)
	}

	// Redriven: the failed child succeeded in the end.
	write("SUCCEEDED_1.json", []any{record(w.Outputs[1])})
	manifest["ResultFiles"].(map[string]any)["SUCCEEDED"] = []map[string]any{
		{"Key": "results/" + runID + "/SUCCEEDED_0.json", "Size": 1}, {"Key": "results/" + runID + "/SUCCEEDED_1.json", "Size": 1}}
	write("manifest.json", manifest)
	res = merge.Run(testdeadline.Context(t), w.worker(), req)
	if !res.OK() || res.Frames != 3*partFrames {
		t.Fatalf("merge: status %d, %q, frames %d", res.Status(), res.Message(), res.Frames)
	}
	if _, ok := w.merged(); !ok {
		t.Error("merged.mp4 is not in the output folder")
	}
	w.checkRootEmpty(t)
}
