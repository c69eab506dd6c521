//go:build linux

package gcsstore_test

import (
	"fmt"
	"hash/crc32"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/testdeadline"
	"github.com/helios-project/helios-scaffold/runtime/gcsstore"
)

const (
	memFileEnv = "GCSSTORE_MEMTEST_FILE" // set in the child process
	memBudget  = 64 << 20                // peak RSS of the whole process
	memSize    = 1 << 30
)

// A 1 GB upload keeps the process under 64 MB of peak RSS: the upload runs
// in a child process (this test binary, which links far more than a
// worker does) against a server that discards what it receives.
func TestPutMemory(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("needs a build without -race, and 1 GB through loopback")
	}
	name := filepath.Join(t.TempDir(), "big.bin")
	f, err := os.Create(name)
	if err == nil {
		err = f.Truncate(memSize) // sparse: reads as zeros
		f.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(discardUploads())
	defer ts.Close()

	cmd := exec.CommandContext(testdeadline.Context(t), os.Args[0], "-test.run=^TestPutMemoryChild$", "-test.v")
	cmd.Env = append(os.Environ(), memFileEnv+"="+name,
		gcsstore.EmulatorHostEnv+"="+strings.TrimPrefix(ts.URL, "http://"))
	start := time.Now()
	out, err := cmd.CombinedOutput()
	m := peakRSS.FindSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	// The child's own high-water mark: its rusage would also count this
	// process's, as the child shares its memory between fork and exec.
	kib, _ := strconv.ParseInt(string(m[1]), 10, 64)
	t.Logf("1 GiB uploaded in %v with a peak RSS of %.1f MiB", time.Since(start).Round(time.Millisecond), float64(kib)/1024)
	if kib<<10 > memBudget {
		t.Errorf("peak RSS %d KiB, over the budget of %d MiB", kib, memBudget>>20)
	}
}

var peakRSS = regexp.MustCompile(`peak RSS: (\d+) kB`)

func TestPutMemoryChild(t *testing.T) {
	name := os.Getenv(memFileEnv)
	if name == "" {
		t.Skip("run by TestPutMemory")
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := gcsstore.New().Put(t.Context(), "gs://out/big.bin", f, memSize); err != nil {
		t.Fatal(err)
	}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	_, hwm, _ := strings.Cut(string(status), "VmHWM:")
	hwm, _, _ = strings.Cut(strings.TrimSpace(hwm), " ")
	t.Logf("peak RSS: %s kB", hwm)
}

// discardUploads serves the resumable upload protocol of the JSON API and
// keeps only the CRC32C and the length of what it receives.
func discardUploads() http.Handler {
	var (
		crc uint32
		n   int64
	)
	table := crc32.MakeTable(crc32.Castagnoli)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("upload_id") == "" { // start the session
			w.Header().Set("Location", "http://"+r.Host+r.URL.Path+"?uploadType=resumable&upload_id=1")
			return
		}
		buf := make([]byte, 256<<10)
		for {
			k, err := r.Body.Read(buf)
			crc = crc32.Update(crc, table, buf[:k])
			n += int64(k)
			if err != nil {
				break
			}
		}
		if strings.HasSuffix(r.Header.Get("Content-Range"), "/*") {
			w.Header().Set("X-Http-Status-Code-Override", "308")
			w.Header().Set("Range", "bytes=0-"+strconv.FormatInt(n-1, 10))
			return
		}
		fmt.Fprintf(w, `{"bucket":"out","name":"big.bin","size":"%d","crc32c":%q,"generation":"1"}`, n, encodeSum(crc))
	})
}
