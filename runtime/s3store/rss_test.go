//go:build linux && !race

package s3store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/helios-project/helios-scaffold/internal/s3test"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/s3store"
	"github.com/helios-project/helios-scaffold/runtime/store"
)

// The child process of TestPutPeakRSS reads what to do from these.
const (
	envRSSChild    = "HELIOS_S3STORE_RSS_CHILD" // "store", "defaults" or "idle"
	envRSSEndpoint = "HELIOS_S3STORE_RSS_ENDPOINT"
	envRSSTarget   = "HELIOS_S3STORE_RSS_TARGET" // s3://bucket/key
	envRSSFile     = "HELIOS_S3STORE_RSS_FILE"
	// envRSSBytes sets the size of the upload; 256 MiB when unset.
	envRSSBytes = "HELIOS_S3STORE_RSS_BYTES"
)

// rssLimit is the peak RSS that a worker process may reach while it
// uploads a chunk's output: 64 MB.
const rssLimit = 64_000_000

// TestPutPeakRSS uploads a file of 256 MiB (HELIOS_S3STORE_RSS_BYTES) in
// a process of its own (this test binary, run again) and checks the
// process's peak RSS, as the kernel counts it. The store's buffers are
// all allocated by the second part, and the garbage of the requests is
// collected once it matches them, so that the peak does not grow with
// the size past a few hundred MiB: a 1 GiB upload peaks about 3 MiB
// higher (45 MiB, against 90 MiB with transfermanager's defaults).
// A process that uploads nothing and the same upload through
// transfermanager's defaults are measured for comparison. The test does
// not run under the race detector, which multiplies memory use.
func TestPutPeakRSS(t *testing.T) {
	if mode := os.Getenv(envRSSChild); mode != "" {
		rssChild(t, mode)
		return
	}
	if testing.Short() {
		t.Skip("uploads 256 MiB twice")
	}
	t.Parallel()
	size := int64(256 << 20)
	if v := os.Getenv(envRSSBytes); v != "" {
		var err error
		if size, err = strconv.ParseInt(v, 10, 64); err != nil {
			t.Fatalf("%s=%s: %v", envRSSBytes, v, err)
		}
	}
	srv := s3test.Shared(t)
	bucket := srv.NewBucket(t)
	file := filepath.Join(t.TempDir(), "out.mp4")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(file, size); err != nil { // sparse: the disk holds nothing
		t.Fatal(err)
	}

	idle := peakRSS(t, srv, "idle", bucket, file)
	st := peakRSS(t, srv, "store", bucket, file)
	defaults := peakRSS(t, srv, "defaults", bucket, file)
	t.Logf("peak RSS uploading %d MiB: %s with the store, %s with transfermanager's defaults, %s uploading nothing",
		size>>20, mib(st), mib(defaults), mib(idle))
	if st > rssLimit {
		t.Errorf("peak RSS %s, want at most %s", mib(st), mib(rssLimit))
	}
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// peakRSS runs the child that uploads file in mode, and returns its peak
// RSS in bytes.
func peakRSS(t *testing.T, srv *s3test.Server, mode, bucket, file string) int64 {
	cmd := exec.CommandContext(testdeadline.Context(t), os.Args[0], "-test.run=^TestPutPeakRSS$", "-test.count=1")
	cmd.Env = append(os.Environ(),
		envRSSChild+"="+mode,
		envRSSEndpoint+"="+srv.Endpoint,
		envRSSTarget+"="+fmt.Sprintf("s3://%s/%s.mp4", bucket, mode),
		envRSSFile+"="+file,
	)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the %s upload: %v\n%s", mode, err, out)
	}
	t.Logf("the %s upload took %v", mode, time.Since(start).Round(time.Millisecond))
	for line := range strings.Lines(string(out)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), rssLinePrefix); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatalf("the %s upload: %q: %v", mode, line, err)
			}
			return n
		}
	}
	t.Fatalf("the %s upload did not report its peak RSS:\n%s", mode, out)
	return 0
}

// rssLinePrefix starts the line where the child reports its peak RSS.
const rssLinePrefix = "peak RSS in bytes: "

// reportPeakRSS prints the process's peak RSS (VmHWM). Not getrusage's
// ru_maxrss, which counts the parent's RSS too: exec keeps the highest
// of the memory it replaces, and os/exec forks with CLONE_VM, sharing
// the parent's.
func reportPeakRSS() error {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return err
	}
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kib, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return fmt.Errorf("VmHWM: %w", err)
			}
			fmt.Printf("%s%d\n", rssLinePrefix, kib<<10)
			return nil
		}
	}
	return errors.New("no VmHWM in /proc/self/status")
}

// rssChild is the upload itself, in the child process.
func rssChild(t *testing.T, mode string) {
	f, err := os.Open(os.Getenv(envRSSFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	cfg := aws.Config{
		Region:       s3test.Region,
		BaseEndpoint: aws.String(os.Getenv(envRSSEndpoint)),
		Credentials:  aws.CredentialsProviderFunc(staticTestCredentials),
	}
	target := os.Getenv(envRSSTarget)
	ctx := context.Background()
	switch mode {
	case "store":
		err = s3store.New(s3store.WithConfig(cfg)).Put(ctx, target, f, info.Size())
	case "defaults":
		err = putWithDefaults(ctx, cfg, target, f)
	case "idle":
	default:
		err = fmt.Errorf("unknown mode %q", mode)
	}
	if err == nil {
		err = reportPeakRSS()
	}
	if err != nil {
		t.Fatal(err)
	}
}

func staticTestCredentials(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: s3test.AccessKeyID, SecretAccessKey: s3test.SecretAccessKey}, nil
}

// putWithDefaults uploads f as transfermanager does by default.
func putWithDefaults(ctx context.Context, cfg aws.Config, target string, f *os.File) error {
	bucket, key, err := store.SplitBucket(target)
	if err != nil {
		return err
	}
	tm := transfermanager.New(s3.NewFromConfig(cfg))
	_, err = tm.UploadObject(ctx, &transfermanager.UploadObjectInput{Bucket: &bucket, Key: &key, Body: f})
	return err
}
