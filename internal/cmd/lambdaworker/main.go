// Command lambdaworker is the Lambda entry point that helios-scaffold generates,
// with the default worker.go folded in; the runtime's tests and benchmarks
// build it. The generated files themselves are in examples/, whose tests
// build and run them too.
//
// Built with -tags nostore it links no S3 store: the bench program builds
// both, to measure what the store costs in size and cold start.
package main

import (
	"github.com/helios-project/helios-scaffold/runtime/awslambda"
	"github.com/helios-project/helios-scaffold/runtime/worker"
)

func main() {
	awslambda.Start(withStore(worker.New(worker.ConfigFromEnv())))
}
