// Command lambdaworker is the Lambda entry point exactly as
// helios-scaffold generates it; the tests and benchmarks build it.
package main

import (
	"github.com/helios-project/helios-scaffold/runtime/awslambda"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

func main() {
	awslambda.Start(worker.New(worker.ConfigFromEnv()))
}
