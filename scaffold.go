package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/helios-project/helios-scaffold/generator"
)

// mode is what a scaffold run is for.
type mode int

const (
	initMode     mode = iota // init: write, then print next steps
	generateMode             // generate: write
	checkMode                // generate --check: write nothing, fail on drift
)

// scaffold renders in, plans against dir and prev, prints the plan and,
// unless previewing, applies it.
func scaffold(cmd *cobra.Command, dir string, in generator.Inputs, prev *generator.Answers, w writeOptions, m mode) error {
	files, err := generator.Render(in)
	if err != nil {
		return err
	}
	plan, err := generator.NewPlan(dir, files, in, prev, generator.Version(), generator.Options{Force: w.force})
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	preview := w.dryRun || w.diff || m == checkMode
	if err := printPlan(out, plan, preview, w.diff); err != nil {
		return err
	}
	if m == checkMode {
		if len(plan.Changes()) > 0 || len(plan.Conflicts()) > 0 {
			return errDrift
		}
		return nil
	}
	if preview {
		if len(plan.Conflicts()) > 0 {
			return fmt.Errorf("%w: these would stop a real run", generator.ErrConflict)
		}
		return nil
	}
	if err := plan.Apply(cmd.Context()); err != nil {
		return err
	}
	if m == initMode {
		return printNextSteps(out, dir, in)
	}
	return nil
}

// printPlan prints one line per file, its fate first, then the notes and,
// with diff, the unified diff of every file written.
func printPlan(w io.Writer, p *generator.Plan, preview, diff bool) error {
	ew := &errWriter{w: w}
	verb := "wrote"
	if preview {
		verb = "would write"
	}
	changes := len(p.Changes())
	ew.printf("%s: %d file(s) %s\n", filepath.Clean(p.Dir), changes, verb)
	for _, a := range p.Actions {
		owner := ""
		if a.Owner == "user" {
			owner = " (yours)"
		}
		line := fmt.Sprintf("  %-11s %s%s", a.Fate, a.Path, owner)
		if a.Note != "" {
			line += ": " + a.Note
		}
		ew.printf("%s\n", line)
	}
	for _, n := range p.Notes {
		ew.printf("note: %s\n", n)
	}
	if diff {
		for _, a := range p.Actions {
			ew.printf("%s", a.Diff())
		}
	}
	return ew.err
}

// errWriter keeps the first write error, so that printing code stays flat.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
