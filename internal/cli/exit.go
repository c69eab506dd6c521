package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/helios-project/helios-scaffold/generator"
)

// Exit codes.
const (
	exitOK       = 0
	exitFailure  = 1
	exitUsage    = 2
	exitConflict = 3
	exitDrift    = 4
)

// errUsage marks errors in the command line itself: unknown commands,
// flags or targets.
var errUsage = errors.New("usage")

// errDrift is returned by generate --check when files would change.
var errDrift = errors.New("generated files are out of date: run go generate ./... (or helios-scaffold generate)")

type usageError struct{ err error }

func (e usageError) Error() string   { return e.err.Error() }
func (e usageError) Unwrap() []error { return []error{e.err, errUsage} }

// exitCode prints err, if any, and maps it to the exit code.
func exitCode(stderr io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	for line := range strings.SplitSeq(err.Error(), "\n") {
		fmt.Fprintf(stderr, "helios-scaffold: %s\n", line)
	}
	if e, ok := errors.AsType[exitError](err); ok {
		return e.code
	}
	switch {
	case errors.Is(err, errDrift):
		return exitDrift
	case errors.Is(err, generator.ErrConflict), errors.Is(err, generator.ErrMergeConflict):
		return exitConflict
	case errors.Is(err, errUsage),
		errors.Is(err, generator.ErrInput),
		errors.Is(err, generator.ErrBadGoMod),
		errors.Is(err, generator.ErrNoModule),
		errors.Is(err, generator.ErrBadAnswers),
		errors.Is(err, generator.ErrNoAnswers),
		errors.Is(err, generator.ErrNoVersion),
		errors.Is(err, generator.ErrTargetMismatch):
		return exitUsage
	}
	return exitFailure
}
