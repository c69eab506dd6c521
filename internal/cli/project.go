package cli

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/helios-project/helios-scaffold/generator"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

// findProject looks for the Google Cloud project as gcloud users expect:
// CLOUDSDK_CORE_PROJECT, GOOGLE_CLOUD_PROJECT, then gcloud's configured
// project when gcloud is installed. It returns "" when none gives one,
// and says where the project came from.
func findProject(ctx context.Context) (project, from string) {
	for _, name := range []string{"CLOUDSDK_CORE_PROJECT", "GOOGLE_CLOUD_PROJECT"} {
		if p := strings.TrimSpace(os.Getenv(name)); p != "" {
			return p, name
		}
	}
	gcloud, err := exec.LookPath("gcloud")
	if err != nil {
		return "", ""
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, gcloud, "config", "get-value", "project").Output()
	if err != nil {
		return "", ""
	}
	p := strings.TrimSpace(string(out))
	if p == "" || p == "(unset)" || strings.ContainsAny(p, " \n") {
		return "", ""
	}
	return p, "gcloud config get-value project"
}

// tasksFromSpec sets a job's task count to the number of chunks of the
// job spec in the local file name.
func tasksFromSpec(in *generator.Inputs, name string) error {
	if !in.IsJob() {
		return usageError{fmt.Errorf("--tasks-from is for --kind job")}
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return usageError{fmt.Errorf("--tasks-from: %w", err)}
	}
	spec, err := worker.ParseSpec(data)
	if err != nil {
		return usageError{fmt.Errorf("--tasks-from %s: %w", name, err)}
	}
	if len(spec.Chunks) == 0 {
		return usageError{fmt.Errorf("--tasks-from %s: the spec has no chunks", name)}
	}
	in.Tasks = len(spec.Chunks)
	return nil
}
