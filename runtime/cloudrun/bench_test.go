package cloudrun_test

import (
	"context"
	"fmt"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
)

// benchShapes are the concurrencies both benchmarks run at, so that
// BenchmarkHandlerTrue/conc=N reads against BenchmarkExecTrueParallel/conc=N.
var benchShapes = []int{1, 8}

// runConcurrent calls op b.N times in all from exactly conc goroutines.
func runConcurrent(b *testing.B, conc int, op func() error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	b.ResetTimer()
	for range conc {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				if err := op(); err != nil {
					once.Do(func() { b.Error(err) })
					return
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkHandlerTrue is one invocation of a `true` chunk through the
// in-process handler over HTTP on loopback: decoding, spec load,
// workspace, process, answer.
func BenchmarkHandlerTrue(b *testing.B) {
	e := newEnv(b, testConfig(b))
	job := e.spec(b, "true")
	for _, conc := range benchShapes {
		b.Run(fmt.Sprintf("conc=%d", conc), func(b *testing.B) {
			runConcurrent(b, conc, func() error {
				res, err := e.caller.Call(context.Background(), jobspec.Request{JobPath: job})
				if err == nil && !res.OK() {
					err = fmt.Errorf("status %d: %s", res.StatusCode, res.Message)
				}
				return err
			})
		})
	}
}

// BenchmarkExecTrueParallel is the baseline: exec'ing /bin/true alone.
func BenchmarkExecTrueParallel(b *testing.B) {
	path, err := exec.LookPath("true")
	if err != nil {
		b.Skip(err)
	}
	for _, conc := range benchShapes {
		b.Run(fmt.Sprintf("conc=%d", conc), func(b *testing.B) {
			runConcurrent(b, conc, func() error { return exec.Command(path).Run() })
		})
	}
}
