package cli

import (
	"context"
	"io"
)

// Run executes the command line args (without the program name), writing
// to stdout and stderr, and returns the process's exit code: 0 success,
// 1 failure, 2 bad usage or input, 3 conflicts, 4 drift.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	return exitCode(stderr, err)
}
