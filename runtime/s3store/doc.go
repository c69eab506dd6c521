// Package s3store is the worker's store for s3:// locations, on
// aws-sdk-go-v2: it reads job specs ([store.Source]), lists and
// downloads asset folders ([store.FolderSource]) and uploads chunk
// outputs ([store.Sink]), with the semantics of [store.FileSource].
//
// # Wiring
//
// The generated main.go of an AWS worker adds it for the "s3" scheme:
//
//	w := worker.New(cfg, worker.WithDefaultSource("s3", s3store.New()))
//
// [New] does no work: the S3 client is built on the first call that
// needs it, so that a Lambda's cold start does not pay for a store that
// the invocation may not use. Call [Store.Validate] at startup to report
// a malformed setting early.
//
// # Configuration
//
// The store uses the SDK's default configuration:
//
//   - credentials from the default chain: AWS_ACCESS_KEY_ID and
//     AWS_SECRET_ACCESS_KEY, the shared files, web identity, and the
//     Lambda function's or the container's role;
//   - the region from AWS_REGION (Lambda sets it);
//   - the endpoint from AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL, when
//     set (MinIO, LocalStack, moto); the SDK reads both itself;
//   - HELIOS_S3_FORCE_PATH_STYLE=true puts the bucket in the URL's path
//     rather than its host name, as most S3-compatible servers need (the
//     SDK does so by itself for an endpoint that is an IP address). A
//     value that is not a boolean is an error naming the variable, from
//     Validate and from the first use.
//
// [WithConfig] replaces the default configuration with an aws.Config,
// and [WithClient] hands the store an *s3.Client to use as it is.
//
// # IAM permissions
//
// The worker's role needs, on the job bucket:
//
//   - s3:GetObject on the job specs and the assets (arn:aws:s3:::BUCKET/*),
//   - s3:ListBucket on the bucket itself (arn:aws:s3:::BUCKET), to list
//     asset folders; without it S3 also answers 403 rather than 404 for a
//     missing object;
//
// and on the output prefix (arn:aws:s3:::BUCKET/PREFIX/*):
//
//   - s3:PutObject, which covers the parts of a multipart upload,
//   - s3:AbortMultipartUpload, to clean up an upload that failed.
//
// # Transfers
//
// Downloads and uploads go through the SDK's transfer manager
// (feature/s3/transfermanager). Uploads of 5 MiB or more are multipart, 5
// MiB a part, 2 parts at a time, so that an upload holds 15 to 20 MiB of
// buffers whatever the file's size; every request carries a CRC32C
// checksum, and an upload that fails is aborted, even when its context
// was cancelled.
// Downloads fetch an object uploaded in parts 5 parts at a time, writing
// each where it belongs, and check each response against its checksum.
//
// # Errors
//
// Errors name the location and keep S3's error code ([Error]). A missing
// bucket or object (NoSuchBucket, NoSuchKey, HTTP 404) wraps
// [store.ErrNotFound]; refused credentials or permissions (AccessDenied,
// InvalidAccessKeyId, SignatureDoesNotMatch, ExpiredToken, HTTP 403) wrap
// [store.ErrAccessDenied].
package s3store
