package cost

import (
	"fmt"
	"strconv"
	"time"
)

// Platform is where a worker runs.
type Platform string

// The platforms.
const (
	AWS      Platform = "aws"      // AWS Lambda
	CloudRun Platform = "cloudrun" // a Cloud Run service, request-based billing
	// CloudRunJob is a Cloud Run job's task: billed for its CPU and memory
	// from its start to its end, at the jobs' rates, with no request fee.
	CloudRunJob Platform = "cloudrun-job"
	Local       Platform = "local" // this machine: no bill
)

// The Lambda architectures.
const (
	ArchX86 = "x86_64"
	ArchARM = "arm64"
)

// Worker is what one worker is given, which is what it is billed for.
type Worker struct {
	Platform Platform
	// MemoryMB is the worker's memory in MiB (Lambda's "MB" are 2^20
	// bytes too): Lambda's MemorySize, Cloud Run's memory limit.
	MemoryMB int
	// Arch is a Lambda function's architecture, arm64 or x86_64 (""
	// is x86_64, Lambda's default).
	Arch string
	// CPU is a Cloud Run container's vCPUs.
	CPU float64
}

// Lambda's memory range, in MB.
const (
	lambdaMinMemoryMB = 128
	lambdaMaxMemoryMB = 10240
)

// Cloud Run's memory range, in MiB, and its whole CPU counts.
const (
	runMinMemoryMB = 512
	runMaxMemoryMB = 32 << 10
)

var runWholeCPUs = []float64{1, 2, 4, 6, 8}

// Check says whether w is a worker its platform can run: on Lambda,
// 128 to 10240 MB and arm64 or x86_64; on Cloud Run, a fraction of a vCPU
// or 1, 2, 4, 6 or 8 vCPUs, and 512 MiB to 32 GiB.
func (w Worker) Check() error {
	switch w.Platform {
	case AWS:
		if w.MemoryMB < lambdaMinMemoryMB || w.MemoryMB > lambdaMaxMemoryMB {
			return fmt.Errorf("checking Lambda worker: memory %d MB is outside Lambda's %d to %d MB", w.MemoryMB, lambdaMinMemoryMB, lambdaMaxMemoryMB)
		}
		if w.Arch != "" && w.Arch != ArchX86 && w.Arch != ArchARM {
			return fmt.Errorf("checking Lambda worker: architecture %q is neither %s nor %s", w.Arch, ArchARM, ArchX86)
		}
	case CloudRun, CloudRunJob:
		if !runCPUOK(w.CPU) {
			return fmt.Errorf("checking Cloud Run worker: %s vCPU is neither a fraction of one nor 1, 2, 4, 6 or 8", formatCPU(w.CPU))
		}
		if w.MemoryMB < runMinMemoryMB || w.MemoryMB > runMaxMemoryMB {
			return fmt.Errorf("checking Cloud Run worker: memory %d MiB is outside Cloud Run's %d MiB to %d GiB", w.MemoryMB, runMinMemoryMB, runMaxMemoryMB>>10)
		}
	case Local:
	default:
		return fmt.Errorf("checking worker: unknown platform %q (aws, cloudrun, cloudrun-job or local)", w.Platform)
	}
	return nil
}

func runCPUOK(cpu float64) bool {
	if cpu > 0 && cpu < 1 {
		return true
	}
	for _, n := range runWholeCPUs {
		if cpu == n {
			return true
		}
	}
	return false
}

// Model prices the calls to one kind of worker.
type Model struct {
	Worker Worker
	Prices Prices
}

// Billing granularity: Lambda rounds a call's duration up to the next
// millisecond, Cloud Run (a service's request or a job's task) to the
// next 100 ms.
const (
	lambdaStep = time.Millisecond
	runStep    = 100 * time.Millisecond
)

// Attempt returns what one call that took d costs, in US dollars.
//
// On Lambda: d rounded up to the next 1 ms, times the memory in GB
// (MemoryMB/1024), at the architecture's GB-second price, plus one
// request. On Cloud Run: d rounded up to the next 100 ms, times CPU at
// the vCPU-second price plus times the memory in GiB at the GiB-second
// price, plus one request. A Cloud Run job's task as a Cloud Run call,
// at the jobs' prices and with no request fee. Locally, and on an
// unknown platform, 0. A negative d counts as 0.
func (m Model) Attempt(d time.Duration) float64 {
	p := m.Prices
	gb := float64(m.Worker.MemoryMB) / 1024
	switch m.Worker.Platform {
	case AWS:
		rate := p.LambdaGBSecondX86
		if m.Worker.Arch == ArchARM {
			rate = p.LambdaGBSecondARM
		}
		return billed(d, lambdaStep)*gb*rate + p.LambdaRequest
	case CloudRun:
		s := billed(d, runStep)
		return s*m.Worker.CPU*p.RunVCPUSecond + s*gb*p.RunGiBSecond + p.RunRequest
	case CloudRunJob:
		s := billed(d, runStep)
		return s*m.Worker.CPU*p.RunJobVCPUSecond + s*gb*p.RunJobGiBSecond
	}
	return 0
}

// billed returns d rounded up to a whole number of steps, in seconds.
func billed(d, step time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	steps := (d-1)/step + 1 // no overflow: d-1 >= 0
	return (steps * step).Seconds()
}

// Describe says in one line what m prices, for humans, such as "Lambda
// arm64 2048 MB at prices of 2026-12-01".
func (m Model) Describe() string {
	w := m.Worker
	at := " at prices of " + m.Prices.Date
	switch w.Platform {
	case AWS:
		arch := w.Arch
		if arch == "" {
			arch = ArchX86
		}
		return fmt.Sprintf("Lambda %s %d MB%s", arch, w.MemoryMB, at)
	case CloudRun:
		return fmt.Sprintf("Cloud Run %s vCPU %d MiB%s", formatCPU(w.CPU), w.MemoryMB, at)
	case CloudRunJob:
		return fmt.Sprintf("Cloud Run job tasks of %s vCPU %d MiB%s", formatCPU(w.CPU), w.MemoryMB, at)
	case Local:
		return "local workers, which cost nothing here"
	}
	return fmt.Sprintf("workers on unknown platform %q, not priced", w.Platform)
}

func formatCPU(cpu float64) string { return strconv.FormatFloat(cpu, 'g', -1, 64) }

// Estimate returns what a whole run will have cost: spent so far, plus
// the remaining chunks at the mean cost of a done one (doneCost/done).
// spent counts every attempt, failed and retried ones too; doneCost only
// those of the done chunks. With nothing remaining it is spent; with no
// chunk done yet there is no mean to go by and it is spent as well, which
// is no estimate: a caller says so rather than show it as one.
func Estimate(spent float64, done int, doneCost float64, remaining int) float64 {
	if remaining <= 0 || done <= 0 {
		return spent
	}
	return spent + float64(remaining)*(doneCost/float64(done))
}
