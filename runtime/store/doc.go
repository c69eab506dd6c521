// Package store is the vocabulary shared by the worker and the bucket
// stores: where documents and files are ([Location]), and what can read
// and write them ([Source], [FolderSource], [VersionedSource], [Sink],
// [Stater]).
//
// A location is a local path, a file:// URL, a bucket location
// ("s3://bucket/key", "gs://bucket/key") or a web URL. [ParseLocation]
// reads one once into its scheme, bucket and key; the worker hands that
// value to its allowlist, its source lookup and its job naming
// ([Location.JobName]).
//
// [FileSource] reads and writes local paths and file:// URLs, and
// [HTTPSource] reads web URLs; the worker has both built in. The stores
// for s3:// and gs:// (runtime/s3store, runtime/gcsstore) implement these
// interfaces and import this package, not the worker, so that a binary
// links only the store it uses. A store wraps [ErrNotFound],
// [ErrAccessDenied] and [ErrChanged] so that callers can tell the cases
// apart, and starts its messages with the location they concern.
package store
