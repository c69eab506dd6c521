package awslambda_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/helios-project/helios-scaffold/internal/lambdatest"
	"github.com/helios-project/helios-scaffold/internal/s3test"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/fanout/probe"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/s3store"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// TestLambdaMerge merges three parts rendered into moto's S3, through the
// bootstrap that users get under the Runtime Interface Emulator: from
// the outputs in the payload, and from a Distributed Map's ResultWriter
// export; the merged video lands beside the parts, as the answer says.
// A part replaced in the bucket fails the merge, naming it.
func TestLambdaMerge(t *testing.T) {
	t.Parallel()
	bins := binaries(t)
	_, found := probe.Find()
	if _, err := exec.LookPath("ffmpeg"); err != nil || !found {
		t.Skip("ffmpeg and ffprobe are not on PATH")
	}
	srv := s3test.Start(t)
	const bucket, frames, fps = "helios-merge", 10, 10
	srv.CreateBucket(t, bucket)

	dir := t.TempDir()
	spec := jobspec.Spec{ID: "job-merge", OutputURL: "s3://" + bucket + "/out",
		Metadata: jobspec.Metadata{TotalFrames: 3 * frames, FPS: fps, Width: 32, Height: 32},
		MergeCommand: `sh -c 'printf "file %s\n" out_part_0.mp4 out_part_1.mp4 out_part_2.mp4 > list.txt && ` +
			`exec ffmpeg -nostdin -v error -y -f concat -safe 0 -i list.txt -c copy merged.mp4'`}
	var outputs []jobspec.ChunkOutput
	var records []any
	for i := range 3 {
		name := fmt.Sprintf("out_part_%d.mp4", i)
		spec.Chunks = append(spec.Chunks, jobspec.Chunk{ID: int64(i), StartFrame: int64(i * frames), FrameCount: frames,
			OutputFile: name, Command: "helios render composition.html -o " + name})
		data := render(t, filepath.Join(dir, name), frames, fps)
		srv.PutObject(t, bucket, "out/"+name, data)
		sum := sha256.Sum256(data)
		o := jobspec.ChunkOutput{Chunk: int64(i), OutputURL: "s3://" + bucket + "/out/" + name, OutputBytes: int64(len(data)), OutputSHA256: hex.EncodeToString(sum[:])}
		outputs = append(outputs, o)
		records = append(records, succeededRecord(t, o))
	}
	specJSON, _ := json.Marshal(spec)
	srv.PutObject(t, bucket, "jobs/job.json", specJSON)
	jobPath := "s3://" + bucket + "/jobs/job.json"

	// The Distributed Map's export, laid out as the ResultWriter writes it.
	const run = "ad9b5f27-090b-3ac6-9beb-243cd77144a7"
	results, _ := json.Marshal(records)
	srv.PutObject(t, bucket, "results/"+run+"/SUCCEEDED_0.json", results)
	manifest, _ := json.Marshal(map[string]any{"DestinationBucket": bucket, "MapRunArn": "arn:aws:states:us-east-1:123456789012:mapRun:helios/Map:" + run,
		"ResultFiles": map[string]any{"SUCCEEDED": []any{map[string]any{"Key": "results/" + run + "/SUCCEEDED_0.json", "Size": len(results)}},
			"FAILED": []any{}, "PENDING": []any{}}})
	srv.PutObject(t, bucket, "results/"+run+"/manifest.json", manifest)

	root := t.TempDir()
	emu := lambdatest.StartT(t, bins, lambdatest.Options{Dir: root, Env: []string{
		"AWS_ENDPOINT_URL_S3=" + srv.Endpoint, "AWS_REGION=" + s3test.Region,
		"AWS_ACCESS_KEY_ID=" + s3test.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + s3test.SecretAccessKey,
		"AWS_EC2_METADATA_DISABLED=true", s3store.EnvForcePathStyle + "=true",
		worker.EnvWorkspaceRoot + "=" + root,
	}})
	ctx := testdeadline.Context(t)
	for _, req := range []jobspec.MergeRequest{
		{JobPath: jobPath, Outputs: outputs},
		{JobPath: jobPath, ResultsURL: "s3://" + bucket + "/results/" + run + "/manifest.json"},
	} {
		payload, _ := json.Marshal(req)
		inv := emu.Invoke(ctx, payload)
		r := decodeResponse(t, inv.Payload)
		b := r.Body
		if r.Status != 200 || inv.Err != nil || !inv.Result.OK() {
			t.Fatalf("merge %s: %d %+v (%v)", payload, r.Status, b, inv.Err)
		}
		stored := getObject(ctx, t, srv.Client, bucket, "out/merged.mp4")
		sum := sha256.Sum256(stored)
		if b.OutputURL != "s3://"+bucket+"/out/merged.mp4" || *b.OutputBytes != int64(len(stored)) || b.OutputSHA256 != hex.EncodeToString(sum[:]) ||
			inv.Result.OutputURL != b.OutputURL || inv.Result.OutputSHA256 != b.OutputSHA256 {
			t.Errorf("answer %+v, lambdacaller %+v; stored %d bytes, SHA-256 %x", b, inv.Result, len(stored), sum)
		}
		if b.Chunks != 3 || b.Frames != 3*frames || b.Warning != "" || *b.ExitCode != 0 {
			t.Errorf("chunks %d, frames %d, warning %q, exit code %d; want 3, %d, none, 0", b.Chunks, b.Frames, b.Warning, *b.ExitCode, 3*frames)
		}
	}

	// Part 1 replaced in the bucket by another render of it.
	srv.PutObject(t, bucket, "out/out_part_1.mp4", render(t, filepath.Join(dir, "again.mp4"), frames+1, fps))
	payload, _ := json.Marshal(jobspec.MergeRequest{JobPath: jobPath, Outputs: outputs})
	r := decodeResponse(t, emu.Invoke(ctx, payload).Payload)
	if r.Status != 500 || r.Body.ErrorKind != worker.KindOutput || r.Body.ExitCode != nil ||
		!strings.Contains(r.Body.Message, "1 of 3 chunks' outputs do not hold up (chunk 1)") {
		t.Errorf("merge of a replaced part: %d %+v; want a 500 naming chunk 1", r.Status, r.Body)
	}
	checkEmpty(t, root)
	// The log arrives through a pipe: the answer can come first.
	emu.WaitOutput(`"message":"merge not run"`, 10*time.Second)
	logged := map[string]int{}
	for _, m := range jsonLines(emu.Output()) {
		msg, _ := m["message"].(string)
		logged[msg]++
	}
	if logged["merge finished"] != 2 || logged["merge not run"] != 1 {
		t.Errorf("log lines %v: want 2 merge finished and 1 merge not run", logged)
	}
}

// render encodes frames of ffmpeg's test pattern at fps into path and
// returns the file.
func render(t *testing.T, path string, frames, fps int) []byte {
	t.Helper()
	out, err := exec.CommandContext(testdeadline.Context(t), "ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi",
		"-i", fmt.Sprintf("testsrc=size=32x32:rate=%d", fps), "-frames:v", fmt.Sprint(frames),
		"-c:v", "libx264", "-pix_fmt", "yuv420p", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// succeededRecord is a SUCCEEDED_N.json record of the child that rendered
// o, as the ResultWriter writes it: Input and Output are JSON strings, and
// the item processor's output carries the worker's answer body parsed.
func succeededRecord(t *testing.T, o jobspec.ChunkOutput) map[string]any {
	t.Helper()
	out, err := json.Marshal(map[string]any{"statusCode": 200, "body": map[string]any{
		"exitCode": 0, "output": "", "stderr": "", "outputUrl": o.OutputURL, "outputBytes": o.OutputBytes, "outputSha256": o.OutputSHA256}})
	if err != nil {
		t.Fatal(err)
	}
	in, _ := json.Marshal(map[string]any{"jobPath": "s3://helios-merge/jobs/job.json", "chunkIndex": o.Chunk})
	name := fmt.Sprintf("child-%d", o.Chunk)
	return map[string]any{"ExecutionArn": "arn:aws:states:us-east-1:123456789012:execution:helios/Map:" + name, "Name": name,
		"Input": string(in), "InputDetails": map[string]any{"Included": true}, "Output": string(out), "OutputDetails": map[string]any{"Included": true},
		"RedriveCount": 0, "RedriveStatus": "NOT_REDRIVABLE", "StartDate": "2026-12-07T10:31:02.123Z",
		"StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:helios/Map", "Status": "SUCCEEDED", "StopDate": "2026-12-07T10:31:40.456Z"}
}

// getObject reads bucket/key.
func getObject(ctx context.Context, t *testing.T, client *s3.Client, bucket, key string) []byte {
	t.Helper()
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatalf("reading s3://%s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
