// Command naiveserver is the bench's baseline for the Cloud Run worker's
// throughput, CPU per chunk and cold start: the simplest honest Go server
// that does the same job. It answers every request by reading the JSON
// payload and the job spec it names, making a temporary folder below
// $HELIOS_WORKSPACE_ROOT, splitting the chunk's command into argv as the
// worker does (jobspec.SplitCommand) and exec'ing it there without a
// shell, as the worker does, reading its stdout and stderr in full,
// removing the folder and answering the worker's JSON body: mkdir, exec,
// answer, rmdir. It has no limits, no logs, no process groups and no
// timeouts. It listens on all interfaces on $PORT, as the worker does.
// The bench builds it with the worker's flags and runs it as a separate
// process, as it runs the worker.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
)

type request struct {
	JobPath    string `json:"jobPath"`
	ChunkIndex int64  `json:"chunkIndex"`
}

type spec struct {
	Chunks []struct {
		ID      int64  `json:"id"`
		Command string `json:"command"`
	} `json:"chunks"`
}

type answer struct {
	ExitCode int    `json:"exitCode"`
	Stdout   string `json:"stdout"`
	Stderr   string `json:"stderr"`
	Message  string `json:"message,omitempty"`
}

func main() {
	root := os.Getenv("HELIOS_WORKSPACE_ROOT")
	if root == "" {
		root = os.TempDir()
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { serve(w, r, root) })
	if err := http.ListenAndServe(":"+port, h); err != nil {
		fmt.Fprintln(os.Stderr, "naiveserver:", err)
		os.Exit(1)
	}
}

func serve(w http.ResponseWriter, r *http.Request, root string) {
	a, err := run(r, root)
	status := http.StatusOK
	if err != nil {
		status, a.Message = http.StatusInternalServerError, err.Error()
	} else if a.ExitCode != 0 {
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(a)
}

func run(r *http.Request, root string) (answer, error) {
	var req request
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		return answer{}, err
	}
	data, err := os.ReadFile(req.JobPath)
	if err != nil {
		return answer{}, err
	}
	var s spec
	if err := json.Unmarshal(data, &s); err != nil {
		return answer{}, err
	}
	for _, c := range s.Chunks {
		if c.ID == req.ChunkIndex {
			return runChunk(c.Command, root)
		}
	}
	return answer{}, errors.New("chunk not found")
}

func runChunk(command, root string) (answer, error) {
	argv, err := jobspec.SplitCommand(command)
	if err != nil {
		return answer{}, fmt.Errorf("splitting the command: %w", err)
	}
	dir, err := os.MkdirTemp(root, "naive-")
	if err != nil {
		return answer{}, err
	}
	defer os.RemoveAll(dir)
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return answer{}, err
	}
	return answer{ExitCode: cmd.ProcessState.ExitCode(), Stdout: stdout.String(), Stderr: stderr.String()}, nil
}
