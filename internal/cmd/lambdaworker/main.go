// Command lambdaworker is the Lambda entry point that helios-scaffold generates,
// with the default worker.go folded in; the runtime's tests and benchmarks
// build it. The generated files themselves are in examples/, whose tests
// build and run them too.
package main

import (
	"github.com/helios-project/helios-scaffold/runtime/awslambda"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

func main() {
	awslambda.Start(worker.New(worker.ConfigFromEnv()))
}
