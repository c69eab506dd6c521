package cost_test

import (
	"fmt"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/fanout/cost"
)

// Price the calls of a run on a 2048 MB arm64 Lambda function, then
// estimate the whole run from the chunks done so far.
func Example() {
	m := cost.Model{
		Worker: cost.Worker{Platform: cost.AWS, MemoryMB: 2048, Arch: cost.ArchARM},
		Prices: cost.Default,
	}
	fmt.Println(m.Describe())

	// 1.5004 s is billed as 1.501 s: 1.501 s × 2 GB × $0.0000133334 + $0.0000002.
	fmt.Printf("one call: $%.10f\n", m.Attempt(1500400*time.Microsecond))

	// 40 chunks done at 61 s each, one throttled call that took 0.2 s
	// retried, and 60 chunks to go.
	done, doneCost := 40, 0.0
	for range done {
		doneCost += m.Attempt(61 * time.Second)
	}
	spent := doneCost + m.Attempt(200*time.Millisecond)
	fmt.Printf("spent $%.4f, whole run about $%.4f\n", spent, cost.Estimate(spent, done, doneCost, 60))
	// Output:
	// Lambda arm64 2048 MB at prices of 2026-12-01
	// one call: $0.0000402269
	// spent $0.0651, whole run about $0.1627
}
