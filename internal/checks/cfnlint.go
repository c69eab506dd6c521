package checks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// RequireEnv names the variable that, when set (as .ci/run sets it), makes a
// missing cfn-lint an ordinary error instead of [ErrNoCFNLint], so that
// tests which skip without cfn-lint fail instead.
const RequireEnv = "HELIOS_REQUIRE_CFN_LINT"

// ErrNoCFNLint is returned by [CFNLint] when cfn-lint is not on PATH and
// [RequireEnv] is not set.
var ErrNoCFNLint = errors.New("cfn-lint is not installed (pip install cfn-lint)")

// ErrCFNLint is wrapped by the error [CFNLint] returns for a template with
// findings.
var ErrCFNLint = errors.New("cfn-lint found problems")

// CFNLint runs cfn-lint on the CloudFormation or SAM template file and
// returns nil only when it exits 0 and reports nothing: no error and no
// warning. The error carries cfn-lint's output, one finding per line as
// file:line:col:endline:endcol:RULE:message. cfn-lint runs in the file's
// directory, so that a .cfnlintrc elsewhere does not apply; ctx bounds it.
func CFNLint(ctx context.Context, file string) error {
	bin, err := exec.LookPath("cfn-lint")
	if err != nil && os.Getenv(RequireEnv) != "" {
		return fmt.Errorf("cfn-lint is required (%s is set): %w", RequireEnv, err)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNoCFNLint, err)
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return fmt.Errorf("cfn-lint %s: %w", file, err)
	}
	cmd := exec.CommandContext(ctx, bin, "--format", "parseable", "--non-zero-exit-code", "informational", "--", abs)
	cmd.Dir = filepath.Dir(abs)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	runErr := cmd.Run()
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("cfn-lint %s: %w", file, ctxErr)
	}
	report := strings.TrimSpace(out.String())
	var exitErr *exec.ExitError
	switch {
	case runErr != nil && !errors.As(runErr, &exitErr):
		return fmt.Errorf("running cfn-lint on %s: %w", file, runErr)
	case runErr != nil:
		return fmt.Errorf("%w in %s (%w):\n%s", ErrCFNLint, file, runErr, report)
	case report != "":
		return fmt.Errorf("%w in %s (exit status 0):\n%s", ErrCFNLint, file, report)
	}
	return nil
}
