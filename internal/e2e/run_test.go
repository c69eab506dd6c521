package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	neturl "net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/helios-project/helios-scaffold/internal/cli"
	"github.com/helios-project/helios-scaffold/internal/gcstest"
	"github.com/helios-project/helios-scaffold/internal/lambdatest"
	"github.com/helios-project/helios-scaffold/internal/s3test"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/s3store"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// runChunks is how many chunks the projects of the run tests have.
const runChunks = 6

// runProjectHelios is a stand-in for the Helios CLI: `helios render
// composition.html -o OUT --start-frame S --frame-count N` checks that
// node_modules did not come along and writes the frame range and the
// media's size; `helios merge OUT PART...` concatenates the parts.
const runProjectHelios = `set -eu
if test "$1" = merge; then out=$2; shift 2; cat "$@" > "$out"; exit; fi
test ! -e node_modules
printf 'frames %s+%s of %s, media %s bytes\n' "$6" "$8" "$(cat "$2")" "$(wc -c < media/clip.bin)" > "$4"
`

// writeRunProject writes a project folder as helios render --emit-job
// leaves it (a spec without id or assetsUrl, relative outputFiles, a merge
// command) and returns the spec's path and the merged video it must give.
func writeRunProject(t *testing.T) (string, string) {
	dir := t.TempDir()
	media := make([]byte, 3<<20) // one S3 PutObject; bed.bin, twice as long, is a multipart upload
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range media {
		media[i] = byte(rng.UintN(256))
	}
	files := map[string][]byte{
		"composition.html":      []byte("intro"),
		"helios":                []byte(runProjectHelios),
		"media/clip.bin":        media,
		"media/bed.bin":         bytes.Repeat(media, 2), // 6 MiB: a multipart upload
		"node_modules/x/x.js":   []byte("module.exports = 1"),
		".git/HEAD":             []byte("ref: refs/heads/main"),
		"out.mp4":               []byte("an old merged video"),
		"out_part_0.mp4":        []byte("an old output"),
		".job.helios-run.other": []byte("not ours"),
	}
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	spec := jobspec.Spec{Metadata: jobspec.Metadata{TotalFrames: 30 * runChunks, FPS: 30, Width: 64, Height: 64, Duration: runChunks}}
	merge := "sh helios merge out.mp4"
	var want strings.Builder
	for i := range runChunks {
		out := fmt.Sprintf("out_part_%d.mp4", i)
		spec.Chunks = append(spec.Chunks, jobspec.Chunk{ID: int64(i), StartFrame: int64(30 * i), FrameCount: 30, OutputFile: out,
			Command: fmt.Sprintf("sh helios render composition.html -o %s --start-frame %d --frame-count 30", out, 30*i)})
		merge += " " + out
		fmt.Fprintf(&want, "frames %d+30 of intro, media %d bytes\n", 30*i, len(media))
	}
	spec.MergeCommand = merge
	data, _ := json.Marshal(spec)
	path := filepath.Join(dir, "job.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, want.String()
}

// runJSON runs helios-scaffold run with --progress json in process and
// returns its summary line; it fails unless the command exits want.
func runJSON(t *testing.T, want int, args ...string) map[string]any {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	args = append([]string{"run", "--progress", "json", "--no-verify"}, args...) // the parts are text
	if code := cli.Run(ctx, args, &out, &errb); code != want {
		t.Fatalf("helios-scaffold %v: exit %d, want %d\n%s%s", args, code, want, out.String(), errb.String())
	}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var e map[string]any
		if json.Unmarshal(sc.Bytes(), &e) == nil && e["event"] == "summary" {
			return e
		}
	}
	t.Fatalf("helios-scaffold %v printed no summary:\n%s%s", args, out.String(), errb.String())
	return nil
}

// checkRun checks a run's merged video and summary.
func checkRun(t *testing.T, spec, want string, sum map[string]any, ok int) {
	t.Helper()
	got, err := os.ReadFile(filepath.Join(filepath.Dir(spec), "out.mp4"))
	if err != nil || string(got) != want {
		t.Errorf("out.mp4 = %q, %v; want %q", got, err, want)
	}
	if sum["ok"] != float64(ok) || sum["failed"] != float64(0) {
		t.Errorf("summary %v: want %d ok and none failed", sum, ok)
	}
}

// TestRunCloudRun renders a local project through the cloud-run example's
// binary with fake-gcs-server as Cloud Storage: the project and spec are
// uploaded, four chunks at a time run, the outputs are collected, checked
// and merged. A second run of the unchanged project uploads nothing.
func TestRunCloudRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example; skipped with -short")
	}
	srv := gcstest.Start(t)
	srv.CreateBucket(jobsBucket)
	t.Setenv(gcstest.EmulatorHostEnv, srv.Host())
	url, _ := startServerURL(t, cloudRunBinary(t), append(os.Environ(),
		gcstest.EmulatorHostEnv+"="+srv.Host(), worker.EnvWorkspaceRoot+"="+t.TempDir()), nil)
	spec, want := writeRunProject(t)
	args := []string{spec, "--target", "cloudrun", "--url", url, "--no-auth", "--upload", "gs://" + jobsBucket + "/runs", "--concurrency", "4"}
	sum := runJSON(t, 0, args...)
	checkRun(t, spec, want, sum, runChunks)
	if n := sum["uploadedBytes"].(float64); n < 9<<20 {
		t.Errorf("uploaded %v bytes, want the project's 9 MiB", n)
	}
	for _, name := range []string{"node_modules/x/x.js", ".git/HEAD", "out.mp4", "out_part_0.mp4", "job.json"} {
		if _, ok := srv.Object(jobsBucket, "runs/assets/"+name); ok {
			t.Errorf("%s was uploaded", name)
		}
	}
	// Again, from scratch but for the bucket: the chunks run again, the
	// upload sends nothing.
	os.Remove(filepath.Join(filepath.Dir(spec), ".job.helios-run"))
	os.Remove(filepath.Join(filepath.Dir(spec), "out.mp4"))
	sum = runJSON(t, 0, args...)
	checkRun(t, spec, want, sum, runChunks)
	if n := sum["uploadedBytes"].(float64); n != 0 {
		t.Errorf("the second run uploaded %v bytes, want none", n)
	}

	// Another run shares the outputUrl and replaces two outputs there: one
	// by an object of another size, one by other bytes of the same size.
	// The rerun, without the local copies, renders both again (the first
	// by the listing's size, the second when its download does not match
	// its worker's SHA-256) and merges the right video.
	dir := filepath.Dir(spec)
	urls := stateOutputURLs(t, filepath.Join(dir, ".job.helios-run"))
	part2, _ := os.ReadFile(filepath.Join(dir, "out_part_2.mp4"))
	for chunk, data := range map[int64]string{1: "another run's part", 2: strings.Repeat("x", len(part2))} {
		name := strings.TrimPrefix(urls[chunk], "gs://"+jobsBucket+"/")
		srv.PutObject(jobsBucket, name, []byte(data))
		os.Remove(filepath.Join(dir, fmt.Sprintf("out_part_%d.mp4", chunk)))
	}
	os.Remove(filepath.Join(dir, "out.mp4"))
	sum = runJSON(t, 0, args...)
	checkRun(t, spec, want, sum, 2)
}

// stateOutputURLs reads where each chunk's output is from a run's state.
func stateOutputURLs(t *testing.T, path string) map[int64]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	urls := map[int64]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n")[1:] {
		var r struct {
			Chunk     int64  `json:"chunk"`
			OutputURL string `json:"outputUrl"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		urls[r.Chunk] = r.OutputURL
	}
	return urls
}

// TestRunLambda is TestRunCloudRun through the aws example's bootstrap
// under the Runtime Interface Emulator, with moto_server as S3. The
// emulator is one instance: one chunk at a time.
func TestRunLambda(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example and the emulator; skipped with -short")
	}
	srv := s3test.Shared(t)
	bucket := srv.NewBucket(t)
	startRunLambda(t, srv, srv.Endpoint)
	spec, want := writeRunProject(t)
	sum := runJSON(t, 0, spec, "--target", "aws", "--function", lambdatest.FunctionName,
		"--upload", "s3://"+bucket+"/runs", "--concurrency", "1")
	checkRun(t, spec, want, sum, runChunks)
	if _, err := srv.Client.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String("runs/assets/media/bed.bin")}); err != nil {
		t.Errorf("the project was not uploaded: %v", err)
	}
}

// TestRunUnprovable: every download that run receives has one byte
// flipped on the way, by a proxy that also drops the headers that carry
// the object's checksums. On Cloud Storage the store's client still
// checks each download against the listing's CRC32C: run fails naming
// the chunk. On S3 the SDK then has nothing to check: the bytes are never
// what their workers put, so run renders them again once, then stops,
// names the chunks, and merges nothing. The workers use the stores
// directly; only run's side is corrupted.
func TestRunUnprovable(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the examples and the emulator; skipped with -short")
	}
	t.Run("gcs", func(t *testing.T) {
		srv := gcstest.Start(t)
		srv.CreateBucket(jobsBucket)
		url, _ := startServerURL(t, cloudRunBinary(t), append(os.Environ(),
			gcstest.EmulatorHostEnv+"="+srv.Host(), worker.EnvWorkspaceRoot+"="+t.TempDir()), nil)
		t.Setenv(gcstest.EmulatorHostEnv, strings.TrimPrefix(flippingProxy(t, "http://"+srv.Host()), "http://"))
		spec, _ := writeRunProject(t)
		out, msg := runUnprovable(t, spec, "--target", "cloudrun", "--url", url, "--no-auth", "--upload", "gs://"+jobsBucket+"/runs")
		if !strings.Contains(msg, "crc32c mismatch") || strings.Contains(out, `"event":"merge"`) {
			t.Errorf("the store's check did not stop the run:\n%s%s", out, msg)
		}
	})
	t.Run("s3", func(t *testing.T) {
		srv := s3test.Shared(t)
		bucket := srv.NewBucket(t)
		startRunLambda(t, srv, flippingProxy(t, srv.Endpoint))
		spec, _ := writeRunProject(t)
		out, msg := runUnprovable(t, spec, "--target", "aws", "--function", lambdatest.FunctionName, "--upload", "s3://"+bucket+"/runs", "--concurrency", "1") // the emulator is one instance
		if !strings.Contains(msg, "output does not match what its worker put after 2 renders, so nothing was merged") ||
			!strings.Contains(msg, "chunk 5: ") || !strings.Contains(msg, "the bytes received have SHA-256") {
			t.Errorf("the message does not name the unproven chunks:\n%s", msg)
		}
		if n := strings.Count(out, `"event":"redo"`); n != runChunks {
			t.Errorf("%d redo events, want each of the %d chunks rendered again once", n, runChunks)
		}
	})
}

// startRunLambda starts the aws example's bootstrap under the emulator,
// with srv as its S3, and points this process's AWS clients (run's) at
// the emulator and at s3, srv's endpoint or one in front of it.
func startRunLambda(t *testing.T, srv *s3test.Server, s3 string) {
	t.Helper()
	env := []string{
		"AWS_ENDPOINT_URL_S3=" + srv.Endpoint, "AWS_REGION=" + s3test.Region,
		"AWS_ACCESS_KEY_ID=" + s3test.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + s3test.SecretAccessKey,
		"AWS_EC2_METADATA_DISABLED=true", s3store.EnvForcePathStyle + "=true",
	}
	root := t.TempDir()
	emu := lambdatest.StartT(t, lambdaBinaries(t), lambdatest.Options{Env: append(env, worker.EnvWorkspaceRoot+"="+root), Dir: root})
	for _, kv := range append(env, "AWS_ENDPOINT_URL_LAMBDA="+emu.Endpoint, "AWS_ENDPOINT_URL_S3="+s3) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

// runUnprovable runs spec with args, which must exit 1 without merging,
// and returns its stdout and stderr.
func runUnprovable(t *testing.T, spec string, args ...string) (string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	args = append([]string{"run", spec, "--progress", "json", "--no-verify"}, args...)
	if code := cli.Run(testdeadline.Context(t), args, &out, &errb); code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, out.String(), errb.String())
	}
	if got, _ := os.ReadFile(filepath.Join(filepath.Dir(spec), "out.mp4")); string(got) != "an old merged video" {
		t.Errorf("out.mp4 was written: %q", got)
	}
	return out.String(), errb.String()
}

// flippingProxy forwards HTTP to the server at base, flipping the first
// byte of every body that is not JSON or XML (the objects' bytes) and
// dropping the headers that carry the objects' checksums; it returns its
// own base URL.
func flippingProxy(t *testing.T, base string) string {
	target, _ := neturl.Parse(base)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ModifyResponse = func(resp *http.Response) error {
		for name := range resp.Header {
			if strings.HasPrefix(name, "X-Amz-Checksum-") || name == "X-Goog-Hash" {
				resp.Header.Del(name)
			}
		}
		ct := resp.Header.Get("Content-Type")
		if strings.Contains(ct, "json") || strings.Contains(ct, "xml") || resp.ContentLength == 0 {
			return nil
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if len(body) > 0 {
			body[0] ^= 0xff
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		return nil
	}
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	return srv.URL
}
