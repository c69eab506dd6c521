package merge_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/store"
	"github.com/helios-project/helios-scaffold/runtime/worker/merge"
)

// runID is the Map Run of the fixtures in testdata/results, which are
// shaped after AWS's documentation of the ResultWriter's export.
const runID = "ad9b5f27-090b-3ac6-9beb-243cd77144a7"

// fixtureSource is the export of testdata/results where the ResultWriter
// puts it: s3://helios-results/results/RUN/.
func fixtureSource(t *testing.T) memSource {
	t.Helper()
	src := memSource{}
	for _, name := range []string{"manifest.json", "SUCCEEDED_0.json", "FAILED_0.json", "PENDING_0.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", "results", name))
		if err != nil {
			t.Fatal(err)
		}
		src["s3://helios-results/results/"+runID+"/"+name] = data
	}
	return src
}

func ptr[T any](v T) *T { return &v }

// fixtureChildren are the children of the fixtures, in the order of the
// statuses' names, then of each file.
func fixtureChildren() []merge.Child {
	name := func(i int) string { return fmt.Sprintf("1f3c0e1a-0000-4000-8000-%012d", i) }
	answer := func(i int) *merge.Answer {
		return &merge.Answer{StatusCode: 200, ExitCode: ptr(0), OutputURL: fmt.Sprintf("s3://helios-out/renders/out_part_%d.mp4", i),
			OutputBytes: ptr(int64(1000 + i)), OutputSHA256: fmt.Sprintf("%064x", 0xa0+i), DurationMS: int64(1200 + i)}
	}
	children := []merge.Child{
		{Status: "FAILED", Name: name(2), Chunk: 2, HasChunk: true,
			Why: `States.TaskFailed: {"errorMessage":"chunk 2: no output for 300 s; killed (HELIOS_CHUNK_IDLE_TIMEOUT)"}`},
		{Status: "PENDING", Name: name(4), Chunk: 4, HasChunk: true, Why: "the Map Run lists it as PENDING"},
		{Status: "SUCCEEDED", Name: name(0), Chunk: 0, HasChunk: true, Answer: answer(0)},
		{Status: "SUCCEEDED", Name: name(1), Chunk: 1, HasChunk: true, Answer: answer(1)},
		{Status: "SUCCEEDED", Name: name(3), Chunk: 3, HasChunk: true, Answer: answer(3), Redriven: true},
	}
	for i := range children { // every record of the fixture is dated alike
		children[i].Start = time.Date(2026, 12, 7, 10, 31, 2, 123e6, time.UTC)
		children[i].Stop = time.Date(2026, 12, 7, 10, 31, 40, 456e6, time.UTC)
	}
	return children
}

// The export as AWS writes it: the manifest in the ResultWriter's bucket
// names each results file by its key there; an output's body is an
// object, the JSON string the handler returns, or inside lambda:invoke's
// Payload.
func TestReadMapResults(t *testing.T) {
	t.Parallel()
	mr, err := merge.ReadMapResults(testdeadline.Context(t), fixtureSource(t), "s3://helios-results/results/"+runID+"/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	if want := "arn:aws:states:us-east-1:123456789012:mapRun:helios-render/Map:" + runID; mr.MapRunARN != want {
		t.Errorf("MapRunARN %q, want %q", mr.MapRunARN, want)
	}
	checkChildren(t, mr.Children, fixtureChildren())
}

// A local copy of an export is read beside its manifest.
func TestReadMapResultsLocalCopy(t *testing.T) {
	t.Parallel()
	abs, err := filepath.Abs(filepath.Join("testdata", "results", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, loc := range []string{abs, "file://" + abs} {
		mr, err := merge.ReadMapResults(testdeadline.Context(t), store.FileSource{}, loc)
		if err != nil {
			t.Fatal(err)
		}
		checkChildren(t, mr.Children, fixtureChildren())
	}
}

func checkChildren(t *testing.T, got, want []merge.Child) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d children, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("child %d:\n got %+v (answer %+v)\nwant %+v (answer %+v)", i, got[i], got[i].Answer, want[i], want[i].Answer)
		}
	}
}

// Other shapes of an export: JSON Lines (OutputType JSONL), a COMPACT
// transformation (the outputs themselves), an empty file; and what is no
// export.
func TestReadMapResultsShapes(t *testing.T) {
	t.Parallel()
	const sum = "00000000000000000000000000000000000000000000000000000000000000a0"
	answer := `{"statusCode":200,"body":{"exitCode":0,"outputUrl":"s3://o/p_0.mp4","outputBytes":5,"outputSha256":"` + sum + `"}}`
	want := &merge.Answer{StatusCode: 200, ExitCode: ptr(0), OutputURL: "s3://o/p_0.mp4", OutputBytes: ptr(int64(5)), OutputSHA256: sum}
	manifest := func(files ...string) string {
		var list []string
		for _, f := range files {
			list = append(list, `{"Key":"r/`+f+`","Size":1}`)
		}
		return `{"DestinationBucket":"b","MapRunArn":"arn","ResultFiles":{"SUCCEEDED":[` + strings.Join(list, ",") + `],"FAILED":[],"PENDING":[]}}`
	}
	record := `{"Name":"n","Input":"{\"chunkIndex\":7}","Output":` + quote(answer) + `,"Status":"SUCCEEDED"}`
	for _, tc := range []struct {
		name  string
		files map[string]string // below s3://b/r/
		want  []merge.Child
		err   error
	}{
		{name: "JSON Lines", files: map[string]string{"manifest.json": manifest("SUCCEEDED_0.jsonl"), "SUCCEEDED_0.jsonl": record + "\n" + record + "\n"},
			want: []merge.Child{{Status: "SUCCEEDED", Name: "n", Chunk: 7, HasChunk: true, Answer: want}, {Status: "SUCCEEDED", Name: "n", Chunk: 7, HasChunk: true, Answer: want}}},
		{name: "COMPACT", files: map[string]string{"manifest.json": manifest("SUCCEEDED_0.json"), "SUCCEEDED_0.json": "[" + answer + "]"},
			want: []merge.Child{{Status: "SUCCEEDED", Answer: want}}},
		{name: "two files, one empty", files: map[string]string{"manifest.json": manifest("SUCCEEDED_0.json", "SUCCEEDED_1.json"),
			"SUCCEEDED_0.json": "", "SUCCEEDED_1.json": "[" + record + "]"},
			want: []merge.Child{{Status: "SUCCEEDED", Name: "n", Chunk: 7, HasChunk: true, Answer: want}}},
		{name: "no answer", files: map[string]string{"manifest.json": manifest("S.json"), "S.json": `[{"Name":"n","Output":"{\"ok\":true}","Status":"SUCCEEDED"},7]`},
			want: []merge.Child{{Status: "SUCCEEDED", Name: "n", Why: `its output has no statusCode: {"ok":true}`}, {Status: "SUCCEEDED", Why: "a results entry is not a JSON object"}}},
		{name: "empty manifest", files: map[string]string{"manifest.json": `{}`}, err: merge.ErrResults},
		{name: "manifest not JSON", files: map[string]string{"manifest.json": `<Error/>`}, err: merge.ErrResults},
		{name: "results not JSON", files: map[string]string{"manifest.json": manifest("S.json"), "S.json": `[{"Name":`}, err: merge.ErrResults},
		{name: "results missing", files: map[string]string{"manifest.json": manifest("S.json")}, err: store.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := memSource{}
			for name, data := range tc.files {
				src["s3://b/r/"+name] = []byte(data)
			}
			mr, err := merge.ReadMapResults(testdeadline.Context(t), src, "s3://b/r/manifest.json")
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("ReadMapResults = %+v, %v; want %v", mr, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkChildren(t, mr.Children, tc.want)
		})
	}
}
