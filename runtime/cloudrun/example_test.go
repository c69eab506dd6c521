package cloudrun_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/helios-project/helios-scaffold/runtime/cloudrun"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// A handler served by httptest: POST runs the chunk that the body names.
func ExampleNewHandler() {
	root, err := os.MkdirTemp("", "helios-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(root)
	cfg := worker.DefaultConfig()
	cfg.WorkspaceRoot = root
	cfg.Passthrough = false
	srv := httptest.NewServer(cloudrun.NewHandler(worker.New(cfg), ""))
	defer srv.Close()

	for _, body := range []string{
		`{"jobPath":"testdata/example-job.json","chunkIndex":0}`,
		`{"jobPath":"testdata/example-job.json","chunkIndex":1}`,
		`{"jobPath":"testdata/example-job.json","chunkIndex":7}`,
		`{"jobPath":"testdata/example-job.json"}`,
		`not json`,
	} {
		resp, err := http.Post(srv.URL, "application/json", strings.NewReader(body))
		if err != nil {
			panic(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		// durationMs varies from run to run; leave it out.
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		delete(m, "durationMs")
		out, _ := json.Marshal(m)
		fmt.Println(resp.StatusCode, resp.Header.Get("Content-Type"), string(out))
	}
	// Output:
	// 200 application/json {"exitCode":0,"renderer":"process","stderr":"","stdout":"rendering frames 0+30\n"}
	// 500 application/json {"errorKind":"failed","exitCode":3,"message":"chunk command exited with code 3","renderer":"process","stderr":"no encoder\n","stdout":""}
	// 500 application/json {"errorKind":"spec","message":"Chunk with ID 7 not found in job spec"}
	// 400 application/json {"errorKind":"payload","message":"Missing jobPath or chunkIndex"}
	// 400 application/json {"errorKind":"payload","message":"Invalid JSON payload"}
}
