package fanout_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/helios-project/helios-scaffold/internal/gcstest"
	"github.com/helios-project/helios-scaffold/internal/s3test"
	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/fanout"
	"github.com/helios-project/helios-scaffold/runtime/gcsstore"
	"github.com/helios-project/helios-scaffold/runtime/s3store"
)

func TestMain(m *testing.M) { os.Exit(s3test.Run(m)) }

// rereading hides a store's VerifiesDownloads, so that Collect checks
// each download by reading it again through Matches.
type rereading struct{ fanout.Bucket }

// bucketStores are the real stores on loopback servers, each a Bucket at
// the returned folder location.
var bucketStores = []struct {
	name  string
	start func(t *testing.T) (fanout.Bucket, string)
}{
	{"s3", startS3},
	{"gcs", startGCS},
	{"s3 read again", func(t *testing.T) (fanout.Bucket, string) {
		b, loc := startS3(t)
		return rereading{b}, loc
	}},
	{"gcs read again", func(t *testing.T) (fanout.Bucket, string) {
		b, loc := startGCS(t)
		return rereading{b}, loc
	}},
}

func startS3(t *testing.T) (fanout.Bucket, string) {
	srv := s3test.Shared(t)
	bucket := srv.NewBucket(t)
	return s3store.New(s3store.WithClient(srv.NewClient(s3test.AccessKeyID, s3test.SecretAccessKey))), "s3://" + bucket + "/run"
}

func startGCS(t *testing.T) (fanout.Bucket, string) {
	srv := gcstest.Start(t)
	srv.CreateBucket("renders")
	t.Setenv(gcsstore.EmulatorHostEnv, srv.Host())
	return gcsstore.New(), "gs://renders/run"
}

// TestSyncAndCollect: Sync sends what the folder lacks or holds otherwise
// and nothing the second time; Collect downloads each output at its File
// path, names the missing ones, skips a local file that matches and
// replaces one that does not, and leaves no temporary file.
func TestSyncAndCollect(t *testing.T) {
	for _, s := range bucketStores {
		t.Run(s.name, func(t *testing.T) {
			b, loc := s.start(t)
			ctx := testdeadline.Context(t)
			files := map[string]string{"index.html": "<html>", "assets/logo.svg": "<svg/>", "out_part_0.mp4": "frames 0-149"}
			set := writeSet(t, files)

			sync := func(wantSent int) {
				t.Helper()
				st, err := fanout.Sync(ctx, b, set, loc, 2, nil)
				if err != nil || st.Files != 3 || st.Sent != wantSent {
					t.Fatalf("Sync = %+v, %v; want %d of 3 files sent", st, err, wantSent)
				}
			}
			sync(3)
			sync(0)
			// Same size, other bytes: sent again.
			os.WriteFile(filepath.Join(set.Dir, "index.html"), []byte("<HTML>"), 0o644)
			sync(1)

			outs := []fanout.Output{
				{Chunk: 0, URL: loc + "/out_part_0.mp4", File: "out_part_0.mp4", Bytes: -1},
				{Chunk: 1, URL: loc + "/assets/logo.svg", File: "parts/logo.svg", Bytes: -1},
				{Chunk: 2, URL: loc + "/out_part_2.mp4", File: "out_part_2.mp4", Bytes: -1},
			}
			out := t.TempDir()
			st, err := fanout.Collect(ctx, b, outs, out, 2)
			if err != nil || st.Fetched != 2 || st.Bytes != int64(len("frames 0-149")+len("<svg/>")) {
				t.Fatalf("Collect = %+v, %v; want 2 fetched", st, err)
			}
			if len(st.Missing) != 1 || st.Missing[0].Chunk != 2 {
				t.Errorf("Missing = %+v, want chunk 2", st.Missing)
			}
			wantFile(t, filepath.Join(out, "out_part_0.mp4"), "frames 0-149")
			wantFile(t, filepath.Join(out, "parts/logo.svg"), "<svg/>")

			// A local copy with other bytes of the same size is replaced;
			// the matching one is not downloaded again.
			os.WriteFile(filepath.Join(out, "out_part_0.mp4"), []byte("frames 0-14X"), 0o644)
			st, err = fanout.Collect(ctx, b, outs[:2], out, 2)
			if err != nil || st.Fetched != 1 {
				t.Fatalf("second Collect = %+v, %v; want only the changed file fetched", st, err)
			}
			wantFile(t, filepath.Join(out, "out_part_0.mp4"), "frames 0-149")
			wantOnly(t, out, "out_part_0.mp4", "parts", "parts/logo.svg")
		})
	}
}

// TestCollectChecksumMismatch: an output whose bytes do not match the
// checksum the store keeps fails Collect naming the chunk, and nothing is
// left at its path.
func TestCollectChecksumMismatch(t *testing.T) {
	ctx := testdeadline.Context(t)
	srv := s3test.Shared(t)
	bucket := srv.NewBucket(t)
	// moto keeps the checksum that the client sends without checking it,
	// as S3 would keep one of bytes that changed since.
	putWithCRC32C(t, srv, bucket, "run/out_part_4.mp4", []byte("frames"), "AAAAAA==")
	b := s3store.New(s3store.WithClient(srv.NewClient(s3test.AccessKeyID, s3test.SecretAccessKey)))
	out := t.TempDir()
	_, err := fanout.Collect(ctx, b, []fanout.Output{{Chunk: 4, URL: "s3://" + bucket + "/run/out_part_4.mp4", File: "out_part_4.mp4", Bytes: -1}}, out, 1)
	if err == nil || !strings.Contains(err.Error(), "chunk 4") || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("Collect of a corrupt output: %v, want an error naming chunk 4 and the checksum", err)
	}
	wantOnly(t, out)
}

func writeSet(t *testing.T, files map[string]string) *fanout.FileSet {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	set, err := fanout.SelectFiles(dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func wantFile(t *testing.T, path, content string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, []byte(content)) {
		t.Errorf("%s = %q, %v; want %q", path, got, err, content)
	}
}

// wantOnly checks that dir holds exactly names (slash-separated, files and
// folders).
func wantOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	var got []string
	err := filepath.WalkDir(dir, func(path string, _ os.DirEntry, err error) error {
		if path != dir {
			rel, _ := filepath.Rel(dir, path)
			got = append(got, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil || strings.Join(got, " ") != strings.Join(names, " ") {
		t.Errorf("%s holds %q, %v; want %q", dir, got, err, names)
	}
}

// putWithCRC32C puts an object whose stored CRC32C is crc, whatever its
// bytes.
func putWithCRC32C(t *testing.T, srv *s3test.Server, bucket, key string, body []byte, crc string) {
	t.Helper()
	ctx := testdeadline.Context(t)
	_, err := srv.Client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: &bucket, Key: &key, Body: bytes.NewReader(body),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c, ChecksumCRC32C: &crc,
	})
	if err != nil {
		t.Fatal(err)
	}
}

// PutIfChanged sends a document once, and again only when it changed,
// on both stores.
func TestPutIfChanged(t *testing.T) {
	for _, st := range bucketStores[:2] {
		t.Run(st.name, func(t *testing.T) {
			b, folder := st.start(t)
			loc := folder + "/jobs/run.json"
			for i, tc := range []struct {
				data string
				sent int64
			}{{`{"a":1}`, 7}, {`{"a":1}`, 0}, {`{"a":2}`, 7}} {
				sent, err := fanout.PutIfChanged(testdeadline.Context(t), b, loc, []byte(tc.data))
				if err != nil || sent != tc.sent {
					t.Fatalf("put %d (%s): sent %d, %v; want %d", i, tc.data, sent, err, tc.sent)
				}
				rc, err := b.Open(testdeadline.Context(t), loc)
				if err != nil {
					t.Fatal(err)
				}
				got, _ := io.ReadAll(rc)
				rc.Close()
				if string(got) != tc.data {
					t.Fatalf("put %d: %s holds %q, want %q", i, loc, got, tc.data)
				}
			}
		})
	}
}
