package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/helios-project/helios-scaffold/generator"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
)

// loadAnswers finds the answers file in dir or its nearest parent, as
// generate and render do, and reads it; it returns the folder that holds it.
func loadAnswers(dir string) (root string, prev *generator.Answers, err error) {
	root, err = generator.FindRoot(dir)
	if err != nil {
		return "", nil, err
	}
	prev, err = generator.ReadAnswers(root)
	if err != nil {
		return "", nil, err
	}
	if prev == nil { // removed since FindRoot saw it
		return "", nil, fmt.Errorf("%s: %w", root, generator.ErrNoAnswers)
	}
	return root, prev, nil
}

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
	spec, err := jobspec.Parse(data)
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
// dependencies from, and the local packages (file:) it links, which the
// image must copy; without a lockfile the image installs the Helios CLI
// alone.
func findLockfile(cmd *cobra.Command, dir string, in *generator.Inputs) error {
	in.NodeLockfile, in.NodeLocalPackages = "", nil
	if !in.HasHeliosDeps() {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, "package.json")); err == nil {
		for _, name := range []string{"npm-shrinkwrap.json", "package-lock.json"} {
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				continue
			}
			local, err := linkedPackages(data)
			if err != nil {
				return usageError{fmt.Errorf("reading %s: %w", name, err)}
			}
			in.NodeLockfile, in.NodeLocalPackages = name, local
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "note: the image installs your npm dependencies from %s (npm ci)\n", name)
			return err
		}
	}
	_, err := fmt.Fprintf(cmd.OutOrStdout(), "note: no package.json with a lockfile: the image installs the Helios CLI alone, from .helios/package.json\n")
	return err
}

// linkedPackages returns the folders of the local packages that an npm
// lockfile (version 2 or 3) links, sorted.
func linkedPackages(lockfile []byte) ([]string, error) {
	var lock struct {
		Packages map[string]struct {
			Link     bool   `json:"link"`
			Resolved string `json:"resolved"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(lockfile, &lock); err != nil {
		return nil, err
	}
	var local []string
	for _, p := range lock.Packages {
		if p.Link && p.Resolved != "" && !slices.Contains(local, p.Resolved) {
			local = append(local, filepath.ToSlash(filepath.Clean(p.Resolved)))
		}
	}
	slices.Sort(local)
	return local, nil
}
