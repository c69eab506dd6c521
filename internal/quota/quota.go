package quota

import (
	"errors"
	"strings"

	"github.com/helios-project/helios-scaffold/runtime/fanout/cost"
)

// Limits is what a worker can take at once, and what it is given.
type Limits struct {
	// Concurrency is the most calls that can run at once; 0 if unknown.
	Concurrency int
	// Why says where Concurrency comes from, for humans, such as "the
	// function's reserved concurrency is 50", and which reads were
	// denied.
	Why string
	// Worker is the worker's memory and architecture (Lambda) or CPU and
	// memory (Cloud Run), for the cost model; the zero Worker if unknown.
	Worker cost.Worker
}

var (
	// ErrThrottled is a worker that can take no call at all: a Lambda
	// function whose reserved concurrency is 0, a Cloud Run service
	// scaled by hand to 0 instances.
	ErrThrottled = errors.New("worker throttled")
	// ErrNoService is a worker that is not there: no such Cloud Run
	// service or Lambda function.
	ErrNoService = errors.New("no such worker")
)

// why joins the clauses of a Limits.Why.
func why(clauses ...string) string {
	var nonEmpty []string
	for _, c := range clauses {
		if c != "" {
			nonEmpty = append(nonEmpty, c)
		}
	}
	return strings.Join(nonEmpty, "; ")
}
