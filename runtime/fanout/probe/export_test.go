package probe

import "time"

// SetWaitDelay sets how long Check waits for ffprobe's output to close,
// until the returned function puts it back. Tests that call it must not
// run in parallel.
func SetWaitDelay(d time.Duration) (restore func()) {
	old := waitDelay
	waitDelay = d
	return func() { waitDelay = old }
}
