package cli

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

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

// scaffold renders in, plans against dir and prev, applies the plan unless
// previewing, and prints it: what was written, or what would be.
func scaffold(cmd *cobra.Command, dir string, in generator.Inputs, prev *generator.Answers, w writeOptions, m mode) error {
	files, err := generator.Render(in)
	if err != nil {
		return err
	}
	plan, err := generator.NewPlan(cmd.Context(), dir, files, in, prev, generator.Version(), generator.Options{Force: w.force})
	if err != nil {
		return err
	}
	preview := w.dryRun || w.diff || m == checkMode
	if !preview {
		err = plan.Apply(cmd.Context())
	}
	out := cmd.OutOrStdout()
	written := !preview && err == nil
	if perr := printPlan(out, plan, written, w.diff); perr != nil {
		return perr
	}
	conflicts := len(plan.Conflicts()) > 0
	merges := plan.MergeConflicts()
	switch {
	case err != nil:
		return err
	case m == checkMode && (conflicts || len(merges) > 0 || len(plan.Changes()) > 0):
		return errDrift
	case preview && conflicts:
		return fmt.Errorf("%w: these would stop a real run", generator.ErrConflict)
	case len(merges) > 0:
		return mergeConflictError(merges, written)
	case written && m == initMode:
		return printNextSteps(out, dir, in)
	}
	return nil
}

// mergeConflictError names the files that hold conflict markers, and
// where.
func mergeConflictError(merges []generator.Action, written bool) error {
	var lines []string
	for _, a := range merges {
		ranges := generator.ConflictRanges(a.Old)
		if a.Fate == generator.MergeConflict {
			ranges = generator.ConflictRanges(a.New)
		}
		var rs []string
		for _, r := range ranges {
			rs = append(rs, r.String())
		}
		lines = append(lines, fmt.Sprintf("%s (lines %s)", a.Path, strings.Join(rs, ", ")))
	}
	what := "conflict markers in "
	if !written {
		what = "a real run would leave conflict markers in "
	}
	return fmt.Errorf("%w: %s%s: your edit and the new render are both kept between the markers; resolve them, then run generate again",
		generator.ErrMergeConflict, what, strings.Join(lines, ", "))
}

// printPlan prints one line per file, its fate first, then the notes and,
// with diff, the unified diff of every file written. The header says
// "wrote" only when the files were written.
func printPlan(w io.Writer, p *generator.Plan, written, diff bool) error {
	ew := &errWriter{w: w}
	n := len(p.Changes())
	verb := "would write"
	if written {
		verb = "wrote"
	}
	ew.printf("%s: %s %d %s\n", filepath.Clean(p.Dir), verb, n, plural(n, "file", "files"))
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

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
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
