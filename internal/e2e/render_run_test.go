package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/helios-project/helios-scaffold/internal/cli"
	"github.com/helios-project/helios-scaffold/internal/gcstest"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
)

// testRunHeliosLocal renders the job that the Helios CLI emitted in repo
// with helios-scaffold run --target local, in env (the image's browser
// and HOME) but with a PATH that lacks the project's node_modules/.bin,
// as a user's shell does: run finds helios there itself, as
// docs/deploying.md says (step 3, "Try it here"). It checks the merged
// video with ffprobe: the job's 60 frames (2 s at 30 fps) of H.264.
func testRunHeliosLocal(t *testing.T, repo, workspaces string, env []string) {
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if k == "PATH" {
			var dirs []string
			for _, d := range filepath.SplitList(v) {
				if !strings.HasPrefix(d, repo) {
					dirs = append(dirs, d)
				}
			}
			v = strings.Join(dirs, string(os.PathListSeparator))
		}
		t.Setenv(k, v)
	}
	// The Helios CLI 0.45.2 writes each part at 25 fps whatever --fps
	// says: run's check with ffprobe finds every frame at the wrong rate,
	// which would make a merged video play 20% slow, and merges nothing.
	args := []string{"run", filepath.Join(repo, "job.json"), "--target", "local", "--workspace-root", workspaces, "--progress", "none"}
	var stdout, stderr bytes.Buffer
	if code := cli.Run(testdeadline.Context(t), args, &stdout, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), "every frame is there, at another frame rate than the spec's 30 fps") {
		t.Errorf("helios-scaffold %v: exit %d; want 1, refusing parts at 25 fps\n%s%s", args, code, stdout.String(), stderr.String())
	}
	if _, err := os.Stat(filepath.Join(repo, "out.mp4")); err == nil {
		t.Error("merged parts at the wrong frame rate")
	}
	runCLI(t, 0, append(args, "--no-verify")...)
	checkMerged(t, repo, filepath.Join(repo, "job.json"))
}

// testRunHeliosCloudRun renders it again through the Cloud Run worker
// binary bin (run as user), with fake-gcs-server as Cloud Storage: the
// repository and spec uploaded, the outputs collected and merged here.
func testRunHeliosCloudRun(t *testing.T, repo, bin, user string, env []string) {
	srv := gcstest.Start(t)
	srv.CreateBucket(jobsBucket)
	for _, kv := range append(env, srv.Env()) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	var attr *syscall.SysProcAttr
	if os.Geteuid() == 0 {
		uid, gid := imageUser(t, user)
		attr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid}}
	}
	url, _ := startServerURL(t, bin, append(os.Environ(), "HELIOS_PASSTHROUGH=false"), attr)
	out := t.TempDir()
	runCLI(t, 0, "run", filepath.Join(repo, "job.json"), "--target", "cloudrun", "--url", url, "--no-auth", "--no-verify", // 25 fps parts, as above
		"--upload", "gs://"+jobsBucket+"/runs", "--out", out, "--progress", "none")
	checkMerged(t, out, filepath.Join(repo, "job.json"))
}

// checkMerged checks, with ffprobe, the merged video in dir, and that the
// outputs of the chunks of the spec at specPath are there.
func checkMerged(t *testing.T, dir, specPath string) {
	t.Helper()
	merged := filepath.Join(dir, "out.mp4")
	ctx := testdeadline.Context(t)
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=codec_name,nb_read_frames", "-of", "csv=p=0", merged).CombinedOutput()
	if got := strings.TrimSpace(string(out)); err != nil || got != "h264,60" {
		t.Errorf("ffprobe %s: %q, %v; want h264 with 60 frames", merged, got, err)
	}
	var spec renderSpec
	if err := json.Unmarshal([]byte(readString(t, specPath)), &spec); err != nil || len(spec.Chunks) != 2 {
		t.Fatalf("the emitted spec: %v, %d chunks", err, len(spec.Chunks))
	}
	for _, c := range spec.Chunks {
		if _, err := os.Stat(filepath.Join(dir, c.OutputFile)); err != nil {
			t.Errorf("chunk %d's output: %v", c.ID, err)
		}
	}
}
