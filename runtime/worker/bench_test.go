package worker_test

import (
	"os/exec"
	"runtime"
	"strconv"
	"testing"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
)

// BenchmarkRun is the worker's cost for a chunk that does nothing; compare
// with BenchmarkExecTrue, the bare cost of starting a process.
func BenchmarkRun(b *testing.B) {
	cfg := testConfig(b)
	w := newWorker(cfg)
	req := jobspec.Request{JobPath: writeSpec(b, oneChunk("true"))}
	b.ReportAllocs()
	for b.Loop() {
		if r := w.Run(b.Context(), req); !r.OK() {
			b.Fatalf("Run = %+v", r)
		}
	}
}

func BenchmarkExecTrue(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if err := exec.Command("true").Run(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRunOutput shows how memory grows with the output size. The kept
// tail is bounded by OutputLimit; heapB/op (bytes allocated per Run) should
// stay flat from 5MB to 50MB. "capture" turns the passthrough off, to tell
// the capture's cost from the passthrough's.
func BenchmarkRunOutput(b *testing.B) {
	for _, size := range []int{5_000_000, 50_000_000} {
		b.Run(strconv.Itoa(size/1_000_000)+"MB", func(b *testing.B) {
			for _, passthrough := range []bool{true, false} {
				name := "passthrough"
				if !passthrough {
					name = "capture"
				}
				b.Run(name, func(b *testing.B) { benchOutput(b, size, passthrough) })
			}
		})
	}
}

func benchOutput(b *testing.B, size int, passthrough bool) {
	cfg := testConfig(b)
	cfg.Passthrough = passthrough
	w := newWorker(cfg)
	req := jobspec.Request{JobPath: writeSpec(b, oneChunk("head -c "+strconv.Itoa(size)+" /dev/zero"))}
	b.ReportAllocs()
	b.SetBytes(int64(size))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	n := 0
	for b.Loop() {
		r := w.Run(b.Context(), req)
		if !r.OK() || r.StdoutBytes != int64(size) || len(r.Stdout) != cfg.OutputLimit {
			b.Fatalf("Run = %+v", r)
		}
		n++
	}
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(n), "heapB/op")
}
