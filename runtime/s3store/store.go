package s3store

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	tmtypes "github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/helios-project/helios-scaffold/runtime/store"
)

// EnvForcePathStyle names the variable that, set to true, addresses
// buckets in the path (http://host/bucket/key) rather than in the host
// name (http://bucket.host/key), as MinIO and most emulators need.
const EnvForcePathStyle = "HELIOS_S3_FORCE_PATH_STYLE"

// Uploads stream the file through transfermanager's uploader, which holds
// in memory, for one multipart upload:
//
//   - the first part, read whole (io.ReadAll) up to the multipart
//     threshold: partSize, the threshold being set equal to it, so that
//     it is one part and not more;
//   - a pool of uploadConcurrency+1 part buffers of partSize each,
//     allocated when the multipart upload starts.
//
// That is (2+1) × 5 MiB = 15 MiB of buffers that stay for the whole
// upload, plus the first part's 5 MiB until it is sent, whatever the
// file's size below 10,000 × 5 MiB ≈ 48.8 GiB (past that transfermanager
// grows the parts to stay within S3's 10,000, far beyond Lambda's 10 GiB
// of /tmp). With Go's default GOGC=100 the heap then stays under about
// twice the 15 MiB that is live: a 1 GiB upload peaks at 45 MiB of RSS
// in a process that idles at 11 MiB (TestPutPeakRSS), within the 64 MB
// that a worker process may use. Three parts at a time keep 20 MiB live
// and measured 57 MiB, with more to come on longer uploads as the heap
// grows towards twice that; transfermanager's defaults (8 MiB parts, 16
// MiB threshold, 5 at a time) peak at 90 MiB.
//
// 5 MiB is S3's smallest part (but the last). Two parts in flight keep a
// Lambda's link to S3 busy, each UploadPart on a connection of its own.
const (
	partSize          = 5 << 20
	uploadConcurrency = 2
	// downloadConcurrency is the number of parts fetched at once; a
	// download writes straight into the destination, holding no parts.
	downloadConcurrency = 5
	// failTimeout bounds AbortMultipartUpload after a failed upload. It
	// runs on a context of its own, so that an upload cut short by the
	// invocation's deadline is still aborted; the parts of one that could
	// not be are never visible as an object, and a bucket lifecycle rule
	// (AbortIncompleteMultipartUpload) removes them.
	failTimeout = 10 * time.Second
)

// checksumAlgorithm is the integrity check of uploads: S3 verifies each
// request against it and keeps it, and GETs return it to be verified
// again. CRC32C rather than CRC32: Go computes both in hardware on amd64
// and arm64 (Graviton), so the choice costs nothing there; CRC32C is the
// check that Google Cloud Storage uses, so that outputs carry the same
// kind of checksum on either platform; and its polynomial is the one
// chosen for its error detection by iSCSI, SCTP and ext4.
const checksumAlgorithm = tmtypes.ChecksumAlgorithmCrc32c

// Store reads and writes s3:// locations ("s3://bucket/key"): it is a
// [store.Source] for job specs, a [store.FolderSource] for asset
// folders and a [store.Sink] for chunk outputs. Its methods are safe for
// concurrent use.
//
// A Store builds its S3 client on first use, not in [New]; a first use
// that fails (a malformed setting) is reported, and the next use tries
// again.
type Store struct {
	cfg   *aws.Config // WithConfig; nil loads the default configuration
	given *s3.Client  // WithClient

	mu     sync.Mutex
	client *s3.Client              // built on first use
	tm     *transfermanager.Client // on client
}

var (
	_ store.FolderSource = (*Store)(nil)
	_ store.Sink         = (*Store)(nil)
)

// An Option configures a [Store].
type Option func(*Store)

// WithConfig makes the store build its client from cfg instead of the
// default configuration. HELIOS_S3_FORCE_PATH_STYLE still applies.
func WithConfig(cfg aws.Config) Option {
	return func(s *Store) { s.cfg = &cfg }
}

// WithClient makes the store use c as it is; the environment is not read.
func WithClient(c *s3.Client) Option {
	return func(s *Store) { s.given = c }
}

// New returns a store. It reads no setting and makes no call: the client
// is built on first use, from the default configuration unless an option
// gives one. The default configuration is the SDK's: credentials from the
// default chain (environment, shared files, web identity, the Lambda or
// container role), the region from AWS_REGION, and an endpoint from
// AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL when set.
func New(opts ...Option) *Store {
	s := &Store{}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Validate reports a malformed setting that the first use would fail on,
// without building the client or making any call: today a value of
// HELIOS_S3_FORCE_PATH_STYLE that is not a boolean. The SDK's own
// variables are checked at first use.
func (s *Store) Validate() error {
	if s.given != nil {
		return nil
	}
	_, err := forcePathStyle()
	return err
}

// clients returns the S3 client and the transfer manager on it, building
// them on first use. A failure is not kept: the next call tries again.
func (s *Store) clients(ctx context.Context) (*s3.Client, *transfermanager.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client != nil {
		return s.client, s.tm, nil
	}
	client := s.given
	if client == nil {
		var err error
		if client, err = s.newClient(ctx); err != nil {
			return nil, nil, err
		}
	}
	s.client = client
	s.tm = transfermanager.New(client, func(o *transfermanager.Options) {
		o.PartSizeBytes = partSize
		o.MultipartUploadThreshold = partSize
		o.Concurrency = uploadConcurrency
		o.ChecksumAlgorithm = checksumAlgorithm
		o.FailTimeout = failTimeout
	})
	return s.client, s.tm, nil
}

func (s *Store) newClient(ctx context.Context) (*s3.Client, error) {
	pathStyle, err := forcePathStyle()
	if err != nil {
		return nil, err
	}
	var cfg aws.Config
	if s.cfg != nil {
		cfg = *s.cfg
	} else if cfg, err = config.LoadDefaultConfig(ctx); err != nil {
		return nil, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if pathStyle {
			o.UsePathStyle = true
		}
		// The SDK would print a line to stderr, outside the worker's
		// structured log, for each object that has no checksum to verify
		// (uploaded without one) or a multipart one it cannot.
		o.DisableLogOutputChecksumValidationSkipped = true
	}), nil
}

// forcePathStyle reads HELIOS_S3_FORCE_PATH_STYLE; unset or empty is false.
func forcePathStyle() (bool, error) {
	v := os.Getenv(EnvForcePathStyle)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s=%s: want true or false", EnvForcePathStyle, v)
	}
	return b, nil
}
