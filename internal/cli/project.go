package cli

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

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

// findLockfile records, for a render-ready image (--deps helios), the npm
// lockfile at the repository's root that the image installs the project's
// dependencies from; without one the image installs the Helios CLI alone.
func findLockfile(cmd *cobra.Command, dir string, in *generator.Inputs) error {
	in.NodeLockfile = ""
	if !in.HasHeliosDeps() {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, "package.json")); err != nil {
		return nil
	}
	for _, name := range []string{"npm-shrinkwrap.json", "package-lock.json"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			in.NodeLockfile = name
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "note: the image installs your npm dependencies from %s (npm ci)\n", name)
			return err
		}
	}
	_, err := fmt.Fprintf(cmd.OutOrStdout(), "note: package.json has no lockfile: the image installs the Helios CLI alone (run npm install to make one)\n")
	return err
}
