package store

import (
	"context"
	"errors"
	"io"
	"strings"

	"github.com/helios-project/helios-scaffold/runtime/internal/fsutil"
)

// A Source opens the documents that jobPath and assetsUrl name, for one URL
// scheme. The worker bounds the size it reads and the time it takes.
// Sources for s3:// and gs:// plug in with [WithSource], so that this
// package imports no cloud SDK.
type Source interface {
	// Open returns the content at location, which is the whole jobPath
	// (for example "s3://bucket/key"). A missing document is an error
	// that names it.
	Open(ctx context.Context, location string) (io.ReadCloser, error)
}

// ErrNoSource is wrapped when a location's scheme has no [Source].
var ErrNoSource = errors.New("no source for this scheme")

// ErrTooLarge is wrapped when a document is larger than the limit.
var ErrTooLarge = errors.New("larger than the limit")

// An Object is one file below a folder location, as a [FolderSource]
// lists it.
type Object struct {
	// Path is the object's name relative to the folder, slash-separated,
	// exactly as the store has it ("img/logo.png"). The worker refuses,
	// before it writes anything, a Path that would land outside the
	// workspace ("../x", "/etc/x").
	Path string
	// Size is the object's length in bytes as stored.
	Size int64
	// Encoded says that the object is stored compressed and arrives
	// decoded (a Cloud Storage object with Content-Encoding gzip, which
	// GCS serves as gcloud storage cp saves it): its bytes may be more
	// than Size. They still count against HELIOS_ASSETS_MAX_BYTES.
	Encoded bool
	// Version identifies the object's content as the listing reports it
	// (S3: the ETag; Cloud Storage: the generation and CRC32C), so that a
	// warm worker can keep the file for the next chunks and download it
	// again once it changes. "" leaves the object out of the asset cache.
	Version string
}

// A FolderSource is a Source that can also list a folder (a prefix) and
// download one of its files; assetsUrl needs one. The worker lists the
// folder, checks every path and the total size against its limits, then
// downloads HELIOS_ASSETS_CONCURRENCY files at a time, each into a
// temporary file that is renamed into place once it is whole.
type FolderSource interface {
	Source
	// List returns every file below the folder at location. The folder is
	// a prefix that ends at a path separator: "s3://b/assets" holds
	// "s3://b/assets/logo.png", not "s3://b/assets2/x". Placeholder
	// objects for folders (names ending in "/") are left out. A folder
	// with no files is an empty list, not an error.
	List(ctx context.Context, location string) ([]Object, error)
	// Download writes the file at location into dst from offset 0 and
	// returns the number of bytes written. It may write parts
	// concurrently, out of order. A transfer cut off halfway is an error.
	Download(ctx context.Context, location string, dst io.WriterAt) (int64, error)
}

// A Sink writes chunk outputs to the locations of one scheme; an output
// location (outputUrl, HELIOS_OUTPUT_URL) needs one.
type Sink interface {
	// Put stores size bytes of src as the object at location, streamed
	// (multipart or resumable for large files), with the store's
	// integrity check on. The object becomes visible only once it is
	// whole: a failed or cut-off Put leaves no partial object.
	Put(ctx context.Context, location string, src io.ReaderAt, size int64) error
}

// A Stater is a Sink that can tell whether an object exists. A Cloud Run
// job's retried task uses it to skip the chunks whose output is already
// stored ([Worker.OutputExists]).
type Stater interface {
	// Stat returns the size of the object at location, or an error that
	// wraps ErrNotFound when there is none.
	Stat(ctx context.Context, location string) (int64, error)
}

// A VersionedSource is a FolderSource that can download the version of
// an object that its listing gave (Object.Version), and no other: an
// object replaced between the listing and its download, even by one of the
// same size, fails with an error that wraps ErrChanged instead of being
// used. The worker uses it when a store implements it.
type VersionedSource interface {
	DownloadVersion(ctx context.Context, location, version string, dst io.WriterAt) (int64, error)
}

// Errors that stores wrap, so that the worker's messages and callers can
// tell the cases apart.
var (
	// ErrNotFound: the bucket, object or folder does not exist.
	ErrNotFound = errors.New("not found")
	// ErrAccessDenied: the store refused the worker's credentials.
	ErrAccessDenied = errors.New("access denied")
	// ErrChanged: the object is no longer the version that was listed.
	ErrChanged = errors.New("changed since it was listed")
	// ErrNotRegular: a job spec, an asset or an outputFile is a FIFO, a
	// socket, a device or a folder; reading one could wait forever for a
	// writer, or never end.
	ErrNotRegular = fsutil.ErrNotRegular
)

// JoinLocation appends a slash-separated relative path to a folder
// location, as it is: JoinLocation("s3://b/out/", "c/0.mp4") is
// "s3://b/out/c/0.mp4".
func JoinLocation(folder, rel string) string {
	return strings.TrimRight(folder, "/") + "/" + rel
}

// SplitBucket splits "s3://bucket/key/part" (any scheme) into the bucket
// and the key, as [ParseLocation] does. The key may be empty
// ("s3://bucket" or "s3://bucket/").
func SplitBucket(location string) (bucket, key string, err error) {
	l := ParseLocation(location)
	switch {
	case l.Scheme == "":
		return "", "", errors.New("not a bucket location: " + location)
	case l.Bucket == "":
		return "", "", errors.New("no bucket in " + location)
	}
	return l.Bucket, l.Key, nil
}
