package generator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ErrNoGit is wrapped when a merge needs git and none is on PATH.
var ErrNoGit = errors.New("git is not on PATH")

// Labels of the three sides in conflict markers.
const (
	labelOurs   = "yours"
	labelBase   = "as helios-scaffold last wrote it"
	labelTheirs = "helios-scaffold's new render"
)

// Merged is the outcome of a 3-way merge of one file.
type Merged struct {
	Data []byte
	// Conflicts are the line ranges (1-based, inclusive) of Data that hold
	// conflict markers, one for each conflict.
	Conflicts []LineRange
}

// LineRange is a range of lines of a file, 1-based and inclusive.
type LineRange struct{ From, To int }

func (r LineRange) String() string {
	if r.From == r.To {
		return strconv.Itoa(r.From)
	}
	return fmt.Sprintf("%d-%d", r.From, r.To)
}

// Merge3 merges the change from base to theirs into ours, line by line, as
// git merge-file does (it runs it): where ours and theirs change the same
// lines differently, the result holds both between git-style conflict
// markers, yours first, so that nothing of either is lost.
func Merge3(ctx context.Context, ours, base, theirs []byte) (*Merged, error) {
	git, err := exec.LookPath("git")
	if err != nil {
		return nil, fmt.Errorf("merging: %w", ErrNoGit)
	}
	dir, err := os.MkdirTemp("", "helios-scaffold-merge-")
	if err != nil {
		return nil, fmt.Errorf("merging: %w", err)
	}
	defer os.RemoveAll(dir)
	names := [3]string{filepath.Join(dir, "ours"), filepath.Join(dir, "base"), filepath.Join(dir, "theirs")}
	for i, data := range [3][]byte{ours, base, theirs} {
		if err := os.WriteFile(names[i], data, 0o600); err != nil {
			return nil, fmt.Errorf("merging: %w", err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, git, "merge-file", "-p", "--marker-size=7",
		"-L", labelOurs, "-L", labelBase, "-L", labelTheirs, names[0], names[1], names[2])
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull, "LC_ALL=C")
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	err = cmd.Run()
	// git merge-file exits with the number of conflicts (capped at 127),
	// and with a negative status (255 and up) on error.
	if ee, ok := errors.AsType[*exec.ExitError](err); ok && ee.ExitCode() > 0 && ee.ExitCode() < 128 {
		err = nil
	}
	if err != nil {
		return nil, fmt.Errorf("git merge-file: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return &Merged{Data: out.Bytes(), Conflicts: ConflictRanges(out.Bytes())}, nil
}

// ConflictRanges finds the git-style conflict markers in data: each range
// runs from a "<<<<<<< " line to its ">>>>>>> " line.
func ConflictRanges(data []byte) []LineRange {
	var (
		out   []LineRange
		start int
		line  int
	)
	for l := range bytes.Lines(data) {
		line++
		switch {
		case bytes.HasPrefix(l, []byte("<<<<<<< ")) || bytes.Equal(bytes.TrimRight(l, "\r\n"), []byte("<<<<<<<")):
			start = line
		case start > 0 && (bytes.HasPrefix(l, []byte(">>>>>>> ")) || bytes.Equal(bytes.TrimRight(l, "\r\n"), []byte(">>>>>>>"))):
			out = append(out, LineRange{start, line})
			start = 0
		}
	}
	return out
}
