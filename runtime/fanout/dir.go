package fanout

import (
	"io"

	"github.com/helios-project/helios-scaffold/runtime/store"
)

// Dir is a [Bucket] of folders on this machine: file:// locations and
// plain paths, where workers that share the machine's disk (a Cloud Run
// job's tasks run locally, HELIOS_OUTPUT_URL=/tmp/renders) put outputs.
// A folder keeps no checksum: what is read is what the disk holds, and
// a file is always copied again rather than taken for a match.
type Dir struct{ store.FileSource }

// Matches reports false: a folder keeps no checksum to compare with.
func (Dir) Matches(store.Object, io.ReaderAt, int64) (bool, error) { return false, nil }

// VerifiesDownloads reports that a copy from the disk needs no second
// read; an output with its worker's SHA-256 is still checked against it.
func (Dir) VerifiesDownloads() bool { return true }
