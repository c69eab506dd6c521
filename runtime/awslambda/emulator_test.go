package awslambda_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/lambdatest"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// The chunks of the job spec used by TestLambdaContract.
const (
	chunkOK        = 0
	chunkExit3     = 1
	chunkEmpty     = 2
	chunkNotFound  = 3
	chunkKilled    = 4
	chunkEnv       = 5
	chunkQuoting   = 6
	chunkUnclosed  = 7
	chunkMissingID = 9 // no such chunk
)

var contractCommands = map[int64]string{
	chunkOK:       `sh -c 'echo out; echo err >&2'`,
	chunkExit3:    `sh -c 'echo out; echo err >&2; exit 3'`,
	chunkEmpty:    ``,
	chunkNotFound: `helios-e2e-no-such-command --flag`,
	chunkKilled:   `sh -c 'echo out; kill -9 $$'`,
	chunkEnv:      `sh -c 'echo "$HELIOS_JOB_ID $HELIOS_CHUNK_ID $HELIOS_START_FRAME $HELIOS_FRAME_COUNT $HELIOS_OUTPUT_FILE"; echo "$HELIOS_WORKSPACE"; pwd'`,
	chunkQuoting:  `printf '%s|' 'a b' "c d" e\ f '' "" "$HOME"`,
	chunkUnclosed: `sh -c 'echo`,
}

// specTimeout is TestLambdaContract's HELIOS_SPEC_TIMEOUT.
const specTimeout = 3 * time.Second

// TestLambdaContract sends every row of the contract's Lambda table, and
// every bad input, through the emulator to the bootstrap that users get,
// checks each raw payload and lambdacaller's reading of it, and after each
// failure checks that the worker still answers a good invocation.
func TestLambdaContract(t *testing.T) {
	t.Parallel()
	bins := binaries(t)
	root := t.TempDir()
	ws := filepath.Join(root, "ws")
	specs := filepath.Join(root, "specs")
	for _, d := range []string{ws, specs} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	job := writeSpec(t, specs, "job.json", spec("job-e2e", contractCommands))
	noChunks := writeSpec(t, specs, "nochunks.json", map[string]any{"id": "x"})
	objChunks := writeSpec(t, specs, "objchunks.json", map[string]any{"id": "x", "chunks": map[string]any{}})
	raw := func(name, doc string) string {
		p := filepath.Join(specs, name)
		if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	twice := raw("twice.json", `{"chunks":[{"id":0,"command":"true","command":"false"}]}`)
	folded := raw("folded.json", `{"Chunks":[{"id":0,"command":"true"}]}`)
	sameID := raw("sameid.json", `{"chunks":[{"id":0,"command":"true"},{"id":0,"command":"false"}]}`)
	garbage := filepath.Join(specs, "garbage.json")
	if err := os.WriteFile(garbage, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(specs, "spec.fifo") // opening it would wait for a writer
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	jobJSON, err := os.ReadFile(job)
	if err != nil {
		t.Fatal(err)
	}
	srv := specServer(t, jobJSON)

	emu := lambdatest.StartT(t, bins, lambdatest.Options{
		Dir: root,
		// specTimeout is what "http never answers" tests; every other spec
		// must be read within it, on a loaded machine too.
		// At DEBUG, so that the platform's own "invocation" line shows
		// beside the worker's one line per chunk at INFO.
		Env: []string{"HELIOS_WORKSPACE_ROOT=" + ws, "HELIOS_SPEC_TIMEOUT=" + specTimeout.String(), "AWS_LAMBDA_LOG_LEVEL=DEBUG"},
	})
	invocations := 0
	invoke := func(t *testing.T, payload []byte) lambdatest.Invocation {
		t.Helper()
		invocations++
		return emu.Invoke(testdeadline.Context(t), payload)
	}
	call := func(t *testing.T, req jobspec.Request) lambdatest.Invocation {
		t.Helper()
		invocations++
		return emu.Call(testdeadline.Context(t), req)
	}
	good := want{status: 200, keys: keysSuccess, output: "out\n", stderr: "err\n"}
	req := func(jobPath string, chunk int64) *jobspec.Request {
		return &jobspec.Request{JobPath: jobPath, ChunkIndex: chunk}
	}
	ev := func(jobPath, chunkIndex string) []byte {
		return []byte(`{"jobPath":` + quote(jobPath) + `,"chunkIndex":` + chunkIndex + `}`)
	}
	notObject := want{status: 400, keys: keysMessage, message: msgNotObject, kind: worker.KindPayload}
	fields := want{status: 400, keys: keysMessage, message: msgFields, kind: worker.KindPayload}
	badPayload := func(message string) want {
		return want{status: 400, keys: keysMessage, message: message, kind: worker.KindPayload}
	}
	badSpec := func(message string) want {
		return want{status: 400, keys: keysMessage, message: message, kind: worker.KindSpec}
	}
	couldNotRun := func(kind worker.Kind, message string, contains ...string) want {
		return want{status: 500, keys: keysMessage, message: message, contains: contains, kind: kind}
	}

	for _, tc := range []struct {
		name    string
		req     *jobspec.Request // sent with lambdacaller.Call
		payload []byte           // sent as is, when req is nil
		want    want
		slow    bool // HELIOS_SPEC_TIMEOUT (specTimeout) runs out
	}{
		// exit code 0 -> 200
		{name: "exit 0", req: req(job, chunkOK), want: good},
		{name: "exit 0, file URL", req: req("file://"+job, chunkOK), want: good},
		{name: "exit 0, path relative to the working directory", req: req("specs/job.json", chunkOK), want: good},
		{name: "exit 0, http URL", req: req(srv.URL+"/job.json", chunkOK), want: good},
		{name: "exit 0, chunkIndex 0e0 and other fields", payload: []byte(`{"jobPath":` + quote(job) + `,"chunkIndex":0e0,"x":[1]}`), want: good},
		{name: "HELIOS environment and workspace", req: req(job, chunkEnv),
			want: want{status: 200, keys: keysSuccess, outputPrefix: "job-e2e 5 125 25 chunk_5.mp4\n"}},
		{name: "argv split without a shell", req: req(job, chunkQuoting),
			want: want{status: 200, keys: keysSuccess, output: "a b|c d|e f|||$HOME|"}},
		// exit code n -> 500 with message
		{name: "exit 3", req: req(job, chunkExit3), want: want{status: 500, keys: keysExit, exitCode: 3,
			output: "out\n", stderr: "err\n", message: "chunk command exited with code 3", kind: worker.KindFailed}},
		{name: "killed by a signal", req: req(job, chunkKilled), want: want{status: 500, keys: keysExit, exitCode: 137,
			output: "out\n", message: "chunk command killed by signal SIGKILL", kind: worker.KindFailed}},
		// event not a JSON object -> 400
		{name: "array", payload: []byte(`[1,2]`), want: notObject},
		{name: "string", payload: []byte(`"x"`), want: notObject},
		{name: "number", payload: []byte(`3`), want: notObject},
		{name: "null", payload: []byte(`null`), want: notObject},
		{name: "true", payload: []byte(`true`), want: notObject},
		{name: "not JSON", payload: []byte(`{jobPath: x}`), want: notObject},
		{name: "empty", payload: []byte{}, want: notObject},
		// jobPath or chunkIndex missing or of the wrong type -> 400
		{name: "empty object", payload: []byte(`{}`), want: fields},
		{name: "no chunkIndex", payload: []byte(`{"jobPath":` + quote(job) + `}`), want: fields},
		{name: "no jobPath", payload: []byte(`{"chunkIndex":0}`), want: fields},
		{name: `chunkIndex "0"`, payload: ev(job, `"0"`), want: fields},
		{name: "chunkIndex 1.5", payload: ev(job, `1.5`), want: fields},
		{name: "chunkIndex -1", payload: ev(job, `-1`), want: fields},
		{name: "chunkIndex null", payload: ev(job, `null`), want: fields},
		{name: "chunkIndex 1e400", payload: ev(job, `1e400`), want: badPayload("Invalid payload: chunkIndex is out of range")},
		{name: "chunkIndex 2^63", payload: ev(job, `9223372036854775808`), want: badPayload("Invalid payload: chunkIndex is out of range")},
		{name: "chunkIndex true", payload: ev(job, `true`), want: fields},
		{name: "attempt 0", payload: ev(job, `0,"attempt":0`), want: badPayload("Invalid payload: attempt must be an integer from 1 to 1000")},
		{name: `jobPath ""`, payload: ev("", `0`), want: fields},
		{name: "jobPath 5", payload: []byte(`{"jobPath":5,"chunkIndex":0}`), want: fields},
		{name: "jobPath null", payload: []byte(`{"jobPath":null,"chunkIndex":0}`), want: fields},
		// readable two ways -> 400
		{name: "keys are case-sensitive", payload: []byte(`{"jobPath":` + quote(job) + `,"ChunkIndex":0}`),
			want: badPayload(`Invalid payload: ambiguous JSON: key "ChunkIndex" is not "chunkIndex" (keys are case-sensitive)`)},
		{name: "jobPath twice", payload: []byte(`{"jobPath":` + quote(job) + `,"chunkIndex":0,"jobPath":"/x.json"}`),
			want: badPayload(`Invalid payload: ambiguous JSON: key "jobPath" appears twice`)},
		{name: "spec with a key twice", req: req(twice, 0), want: badSpec(`decoding job spec: ambiguous JSON: key "command" appears twice in chunks[0]`)},
		{name: "spec with Chunks", req: req(folded, 0), want: badSpec(`decoding job spec: ambiguous JSON: key "Chunks" is not "chunks" (keys are case-sensitive)`)},
		{name: "spec with two chunks of one id", req: req(sameID, 0), want: badSpec(`decoding job spec: ambiguous JSON: chunks[0] and chunks[1] both have id 0`)},
		// the chunk could not run -> 500 with message
		{name: "missing spec file", req: req(filepath.Join(specs, "nope.json"), 0),
			want: couldNotRun(worker.KindStore, "", "reading job spec "+filepath.Join(specs, "nope.json"), "no such file or directory")},
		{name: "http 404", req: req(srv.URL+"/missing.json", 0),
			want: couldNotRun(worker.KindStore, "", srv.URL+"/missing.json", "404")},
		{name: "http never answers", req: req(srv.URL+"/stall.json", 0), slow: true,
			want: couldNotRun(worker.KindStore, "", "reading job spec "+srv.URL+"/stall.json", "deadline exceeded")},
		// The Lambda binary links the S3 store, and no Google client.
		{name: "no source for gs", req: req("gs://bucket/job.json", 0),
			want: couldNotRun(worker.KindSpec, "", "gs://bucket/job.json", "no source")},
		{name: "spec a FIFO", req: req(fifo, 0), want: couldNotRun(worker.KindSpec, "reading job spec "+fifo+": "+fifo+" is not a regular file (a FIFO)")},
		{name: "spec not JSON", req: req(garbage, 0), want: couldNotRun(worker.KindSpec, "", "decoding job spec")},
		{name: "spec without chunks", req: req(noChunks, 0), want: couldNotRun(worker.KindSpec, msgNoChunks)},
		{name: "spec with chunks an object", req: req(objChunks, 0), want: couldNotRun(worker.KindSpec, msgNoChunks)},
		{name: "chunk not found", req: req(job, chunkMissingID), want: couldNotRun(worker.KindSpec, "Chunk with ID 9 not found in job spec")},
		{name: "empty command", req: req(job, chunkEmpty), want: couldNotRun(worker.KindCommand, "", "empty command")},
		{name: "unterminated quote", req: req(job, chunkUnclosed), want: couldNotRun(worker.KindCommand, "", "unterminated quote")},
		{name: "command not found", req: req(job, chunkNotFound),
			want: couldNotRun(worker.KindCommand, "", "helios-e2e-no-such-command", "not found")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var inv lambdatest.Invocation
			if tc.req != nil {
				inv = call(t, *tc.req)
			} else {
				inv = invoke(t, tc.payload)
			}
			r := check(t, inv, tc.want)
			// Not before the spec timeout, and long before the 300 s Lambda
			// deadline that would end the wait without it.
			if tc.slow && (inv.Duration < specTimeout*9/10 || inv.Duration > time.Minute) {
				t.Errorf("answered after %v, want about HELIOS_SPEC_TIMEOUT (%v)", inv.Duration, specTimeout)
			}
			if tc.req != nil && tc.req.ChunkIndex == chunkEnv {
				checkEnvChunk(t, r, ws)
			}
			if r.Status != 200 { // the worker must still answer
				check(t, call(t, *req(job, chunkOK)), good)
			}
		})
	}
	checkEmpty(t, ws)

	d, err := emu.InitDuration(testdeadline.Remaining(t))
	if err != nil {
		t.Error(err)
	}
	t.Logf("INIT REPORT: %v", d)

	t.Run("logs are JSON lines with requestId", func(t *testing.T) {
		checkLambdaLogs(t, emu, invocations)
	})
}

// checkEnvChunk checks the HELIOS_WORKSPACE and working directory that
// the env chunk printed after its first line.
func checkEnvChunk(t *testing.T, r response, ws string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(*r.Body.Output, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("env chunk printed %q", *r.Body.Output)
	}
	if lines[1] != lines[2] || !strings.HasPrefix(lines[1], filepath.Join(ws, "helios-job-e2e-5-")) {
		t.Errorf("HELIOS_WORKSPACE %q and working directory %q: want one fresh directory in %s", lines[1], lines[2], ws)
	}
}

// checkLambdaLogs checks that, under the emulator, every log line of the
// worker is a JSON object with level, timestamp and message, carrying the
// requestId of an invocation the emulator started.
func checkLambdaLogs(t *testing.T, emu *lambdatest.Emulator, invocations int) {
	deadline := time.Now().Add(testdeadline.Remaining(t))
	for strings.Count(emu.Output(), "\nEND RequestId: ") < invocations && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	out := emu.Output()
	ids := map[string]bool{}
	for line := range strings.Lines(out) {
		if id, ok := strings.CutPrefix(line, "START RequestId: "); ok {
			ids[strings.Fields(id)[0]] = true
		}
	}
	if len(ids) != invocations {
		t.Errorf("the emulator started %d invocations, want %d", len(ids), invocations)
	}
	var logged int
	messages := map[string]int{}
	for _, m := range jsonLines(out) {
		logged++
		for _, k := range []string{"level", "timestamp", "message"} {
			if _, ok := m[k].(string); !ok {
				t.Errorf("log line without a string %q: %v", k, m)
			}
		}
		if id, _ := m["requestId"].(string); !ids[id] {
			t.Errorf("log line without the requestId of an invocation: %v", m)
		}
		msg, _ := m["message"].(string)
		messages[msg]++
	}
	if logged == 0 || messages["invocation"] == 0 || messages["invalid payload"] == 0 || messages["chunk finished"] == 0 {
		t.Errorf("expected invocation, invalid payload and chunk finished log lines; got %v", messages)
	}
}

// specServer serves spec at /job.json, 404 at /missing.json, and never
// answers /stall.json until the client goes away or the test ends.
func specServer(t *testing.T, spec []byte) *httptest.Server {
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/job.json":
			w.Write(spec)
		case "/stall.json":
			select {
			case <-r.Context().Done():
			case <-stop:
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) }) // runs first, so that Close does not wait
	return srv
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
