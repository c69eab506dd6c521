package generator

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

// RenamePauseEnv names a variable for tests only: set to n (1 or more), it
// makes [Plan.Apply] print a line that starts with [RenamePauseMarker] to
// standard error right before its n-th rename, then sleep for a minute
// before going on, so that a test can kill the process exactly between two
// renames. It is read once per process; unset, as it always is outside
// tests, Apply neither prints nor sleeps.
const RenamePauseEnv = "HELIOS_SCAFFOLD_TEST_RENAME_PAUSE"

// RenamePauseMarker starts the line that [RenamePauseEnv] makes Apply
// print: "helios-scaffold test: before rename <n> of <total>: <path>".
const RenamePauseMarker = "helios-scaffold test: before rename "

// renamePause is the rename that RenamePauseEnv pauses before, counting
// from 1; 0 when it is unset or not a positive number.
var renamePause = sync.OnceValue(func() int {
	n, err := strconv.Atoi(os.Getenv(RenamePauseEnv))
	if err != nil || n < 1 {
		return 0
	}
	return n
})

// pauseBeforeRename is RenamePauseEnv's pause, before the rename of path,
// the n-th of total.
func pauseBeforeRename(n, total int, path string) {
	fmt.Fprintf(os.Stderr, "%s%d of %d: %s\n", RenamePauseMarker, n, total, path)
	time.Sleep(time.Minute)
}
