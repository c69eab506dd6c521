// Package gcsstore is the worker's Google Cloud Storage store: it reads job
// specs and asset folders at gs:// locations and uploads chunk outputs
// there. A [Store] is a [store.Source], a [store.FolderSource] and a
// [store.Sink]; wire it for the gs scheme:
//
//	w := worker.New(cfg, worker.WithDefaultSource("gs", gcsstore.New()))
//
// It speaks the Cloud Storage JSON API through google.golang.org/api/storage/v1
// rather than cloud.google.com/go/storage, which would double the size and
// the start-up time of the Cloud Run binary.
//
// # Credentials
//
// New does no work: the client is built on first use, with Application
// Default Credentials (on Cloud Run and Cloud Run jobs, the service
// account of the service or job, through the metadata server) and the
// devstorage.read_write scope. A first use that fails, for want of
// credentials say, is not remembered: the next use tries again.
// [WithClientOptions] passes options of its own (an *http.Client, an
// endpoint, a credentials file) that win over these.
//
// When STORAGE_EMULATOR_HOST is set ("localhost:4443" or
// "http://localhost:4443"), as for the other Cloud Storage clients, the
// store talks to that emulator (fake-gcs-server, for one) without
// authentication: metadata at http://HOST/storage/v1/, uploads at
// http://HOST/upload/storage/v1/.
//
// The service account needs roles/storage.objectViewer on the buckets of
// the job specs and assets (storage.objects.get and storage.objects.list),
// and roles/storage.objectCreator on the output bucket. objectCreator can
// create an object but not replace one: re-rendering a chunk over an
// output that exists also needs storage.objects.delete, which
// roles/storage.objectUser grants; without it such a Put fails with
// [store.ErrAccessDenied]. Checking whether an output exists, as a
// retried Cloud Run task does, needs storage.objects.get on the output
// bucket.
//
// # Integrity
//
// Every download, Open included, checks the CRC32C of the bytes received
// against the object's (from the X-Goog-Hash header, or the object's
// metadata when a server sends none) and fails with [ErrChecksum] when
// they differ; a body cut short is an error too. The one exception is an
// object stored gzip-encoded, which is served decompressed and whose CRC32C
// is that of the compressed bytes.
//
// Put computes the CRC32C of the file before it uploads it and declares
// it, so that GCS refuses an upload that does not match. Files smaller
// than the chunk size go up in one request streamed from the file; larger
// ones through a resumable upload, in chunks that are retried on their own
// after a transient failure. An object is visible only once its upload is
// complete, so a failed Put leaves nothing behind. fake-gcs-server checks
// a declared CRC32C only for single-request uploads, not for resumable
// ones; Put therefore also compares the CRC32C the server reports, and
// deletes the object when it differs.
//
// # Memory
//
// A resumable upload holds one chunk in memory (the client library reads
// each chunk into a buffer of the chunk size, reused for every chunk and
// every retry), and the Go collector lets the heap grow to about twice
// what is live before it collects. The default chunk of 8 MiB thus costs
// about 16 MiB of peak heap, and a 1 GiB upload keeps the process under
// 64 MiB of peak RSS with room to spare (TestPutMemory measures 45 MiB
// for a test binary that idles at 30 MiB); the library's default of
// 16 MiB would come close to that limit, and 32 MiB exceeds it. Chunks of
// 8 MiB still keep the number of requests low: 128 for 1 GiB. Downloads
// stream through a 256 KiB buffer.
//
// # Errors
//
// Errors name the location ("gs://renders/job-42.json: not found") and
// wrap [store.ErrNotFound] for a 404 (a missing object or bucket),
// [store.ErrAccessDenied] for a 401 or 403, and the *googleapi.Error for
// every answer of the API.
package gcsstore
