package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/helios-project/helios-scaffold/internal/cli"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/fanout/webhook"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
)

// videoHelios stands in for the Helios CLI with real video. `helios
// render composition.html -o OUT --start-frame S --frame-count N`
// encodes N frames of ffmpeg's test pattern, 64x64 H.264 at 30 fps;
// `helios merge OUT PART...` joins the parts with ffmpeg's concat
// demuxer. A file faults/hang-S, faults/short-S or faults/fail-S in the
// project makes the chunk starting at frame S hang, render 10 frames too
// few, or exit 3, on its first render only: a folder made in MARKS, outside every
// workspace, says that it happened.
const videoHelios = `set -eu
if test "$1" = merge; then
  out=$2; shift 2
  for f in "$@"; do echo "file '$f'"; done > .merge.txt
  exec ffmpeg -nostdin -v error -y -f concat -safe 0 -i .merge.txt -c copy "$out"
fi
out=$4 start=$6 n=$8
if test -e "faults/hang-$start" && mkdir "MARKS/hang-$start" 2>/dev/null; then exec sleep 600; fi
if test -e "faults/short-$start" && mkdir "MARKS/short-$start" 2>/dev/null; then n=$((n - 10)); fi
if test -e "faults/fail-$start" && mkdir "MARKS/fail-$start" 2>/dev/null; then echo "fault: the chunk at frame $start fails" >&2; exit 3; fi
exec ffmpeg -nostdin -v error -y -f lavfi -i "testsrc=size=64x64:rate=30" -frames:v "$n" -c:v libx264 -pix_fmt yuv420p "$out"
`

// videoFrames is each chunk's frame count in a video project.
const videoFrames = 30

// videoProject is a project of real video, as helios render --emit-job
// leaves it: Spec is the spec's path, Marks the folder of the faults
// that happened.
type videoProject struct {
	Dir, Spec, Marks string
	Chunks           int
}

// writeVideoProject writes a video project of n chunks with the given
// faults ("hang-S", "short-S", "fail-S", S a chunk's start frame). It skips the
// test when ffmpeg or ffprobe is not on PATH.
func writeVideoProject(t *testing.T, n int, faults ...string) videoProject {
	t.Helper()
	for _, tool := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not on PATH", tool)
		}
	}
	dir, marks := t.TempDir(), t.TempDir()
	files := map[string]string{
		"composition.html": "intro",
		"helios":           strings.ReplaceAll(videoHelios, "MARKS", marks),
	}
	for _, f := range faults {
		files["faults/"+f] = ""
	}
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	spec := jobspec.Spec{Metadata: jobspec.Metadata{TotalFrames: videoFrames * n, FPS: 30, Width: 64, Height: 64, Duration: float64(n)}}
	merge := "sh helios merge out.mp4"
	for i := range n {
		out := fmt.Sprintf("out_part_%d.mp4", i)
		spec.Chunks = append(spec.Chunks, jobspec.Chunk{ID: int64(i), StartFrame: int64(videoFrames * i), FrameCount: videoFrames, OutputFile: out,
			Command: fmt.Sprintf("sh helios render composition.html -o %s --start-frame %d --frame-count %d", out, videoFrames*i, videoFrames)})
		merge += " " + out
	}
	spec.MergeCommand = merge
	data, _ := json.Marshal(spec)
	path := filepath.Join(dir, "job.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return videoProject{Dir: dir, Spec: path, Marks: marks, Chunks: n}
}

// happened reports whether fault f fired.
func (v videoProject) happened(f string) bool {
	_, err := os.Stat(filepath.Join(v.Marks, f))
	return err == nil
}

// frames is how many frames the video at path decodes to, by ffprobe.
func frames(t *testing.T, path string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testdeadline.Remaining(t))
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames",
		"-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", "file:"+path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var n int
	fmt.Sscan(strings.TrimSpace(string(out)), &n)
	return n
}

// runEvents runs helios-scaffold run with --progress json in process,
// fails unless it exits want, and returns its JSON lines (the chunk
// events, the summary) and its stderr.
func runEvents(t *testing.T, want int, args ...string) ([]map[string]any, string) {
	t.Helper()
	var out, errb bytes.Buffer
	args = append([]string{"run", "--progress", "json"}, args...)
	if code := cli.Run(testdeadline.Context(t), args, &out, &errb); code != want {
		t.Fatalf("helios-scaffold %v: exit %d, want %d\n%s%s", args, code, want, out.String(), errb.String())
	}
	var events []map[string]any
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var e map[string]any
		if json.Unmarshal(sc.Bytes(), &e) == nil {
			events = append(events, e)
		}
	}
	return events, errb.String()
}

// eventsOf are the events of one kind.
func eventsOf(events []map[string]any, kind string) []map[string]any {
	var es []map[string]any
	for _, e := range events {
		if e["event"] == kind {
			es = append(es, e)
		}
	}
	return es
}

// hookReceiver is a webhook receiver that checks every delivery's
// signature with secret and answers 503 to the first FailFirst of them.
type hookReceiver struct {
	URL    string
	Secret string

	mu         sync.Mutex
	FailFirst  int
	deliveries []hookDelivery
}

// hookDelivery is one POST the receiver got.
type hookDelivery struct {
	Signed  bool // its signature is the body's
	ID      string
	Payload webhook.Payload
	Status  int // what the receiver answered
}

// startHookReceiver starts a receiver on loopback, closed with the test.
func startHookReceiver(t *testing.T, secret string, failFirst int) *hookReceiver {
	h := &hookReceiver{Secret: secret, FailFirst: failFirst}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		d := hookDelivery{Signed: webhook.Verify([]byte(secret), body, r.Header.Get(webhook.SignatureHeader)),
			ID: r.Header.Get(webhook.DeliveryHeader), Status: http.StatusOK}
		json.Unmarshal(body, &d.Payload)
		h.mu.Lock()
		if len(h.deliveries) < h.FailFirst {
			d.Status = http.StatusServiceUnavailable
		}
		h.deliveries = append(h.deliveries, d)
		h.mu.Unlock()
		w.WriteHeader(d.Status)
	}))
	t.Cleanup(srv.Close)
	h.URL = srv.URL + "/hooks/helios"
	return h
}

// Deliveries are the POSTs received so far.
func (h *hookReceiver) Deliveries() []hookDelivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookDelivery(nil), h.deliveries...)
}

// checkOneOutcome checks that the receiver was told of one outcome,
// event, once: every delivery signed and of one id, failed ones tried
// again, the last accepted.
func (h *hookReceiver) checkOneOutcome(t *testing.T, event string) webhook.Payload {
	t.Helper()
	ds := h.Deliveries()
	if len(ds) != h.FailFirst+1 {
		t.Fatalf("%d deliveries, want %d (the first %d refused, then one accepted): %+v", len(ds), h.FailFirst+1, h.FailFirst, ds)
	}
	for _, d := range ds {
		if !d.Signed || d.ID != ds[0].ID || d.ID == "" || d.Payload.Event != event || d.Payload.DeliveryID != d.ID {
			t.Errorf("delivery %+v: want every one signed, of event %q, and of the first's id %q", d, event, ds[0].ID)
		}
	}
	return ds[len(ds)-1].Payload
}
