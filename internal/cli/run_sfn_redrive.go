package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// redrivable are the statuses that an execution can be redriven from.
var redrivable = map[types.ExecutionStatus]bool{
	types.ExecutionStatusFailed: true, types.ExecutionStatusTimedOut: true, types.ExecutionStatusAborted: true,
}

// redriveStepFunctions redrives the execution arn when it ended without
// success (--redrive): Step Functions runs again its failed states, and
// in a Distributed Map only the children that failed. An execution that
// runs or succeeded is followed as it is. The client token is the
// execution's and its redrive count's, so that the same command run
// again after a kill does not redrive a second time what its first call
// redrove.
func (p *runPlan) redriveStepFunctions(ctx context.Context, client *sfn.Client, prog *progress, arn string) (*redrive, error) {
	cctx, cancel := context.WithTimeout(ctx, sfnCallTimeout)
	defer cancel()
	d, err := client.DescribeExecution(cctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	if _, ok := errors.AsType[*types.ExecutionDoesNotExist](err); ok {
		return nil, usageError{fmt.Errorf("--attach %s: no such execution: %w", arn, err)}
	}
	if err != nil {
		return nil, fmt.Errorf("reading execution %s to redrive it: %w", arn, err)
	}
	if !redrivable[d.Status] {
		prog.line("--redrive: execution %s is %s, not failed: nothing to redrive, following it", arn, lowerStatus(d.Status))
		return nil, nil
	}
	if d.RedriveStatus == types.ExecutionRedriveStatusNotRedrivable {
		return nil, fmt.Errorf("--redrive: execution %s (%s) cannot be redriven: %s; start a new one with --detach",
			arn, lowerStatus(d.Status), orDefault(aws.ToString(d.RedriveStatusReason), "Step Functions gives no reason"))
	}
	sum := sha256.Sum256([]byte(arn + "\x00" + strconv.Itoa(int(aws.ToInt32(d.RedriveCount)))))
	out, err := client.RedriveExecution(cctx, &sfn.RedriveExecutionInput{ExecutionArn: aws.String(arn), ClientToken: aws.String(hex.EncodeToString(sum[:16]))})
	if err != nil {
		return nil, fmt.Errorf("redriving execution %s: %w", arn, err)
	}
	prog.line("redrove execution %s (%s at %s): its failed chunks run again, then the merge", arn, lowerStatus(d.Status),
		aws.ToTime(out.RedriveDate).UTC().Format("2006-01-02 15:04:05Z"))
	return &redrive{at: aws.ToTime(out.RedriveDate), called: time.Now()}, nil
}

// sfnStaleRedrive is how long after a redrive an execution may still be
// described as it ended before it.
const sfnStaleRedrive = time.Minute

// A redrive is one that run called: when Step Functions dated it, and
// when run called it.
type redrive struct {
	at, called time.Time
}

// stale reports whether d is what the execution was before the redrive:
// it ended no later than the redrive, and the redrive is recent enough
// that the execution may not have moved yet.
func (r *redrive) stale(d *sfn.DescribeExecutionOutput) bool {
	return r != nil && redrivable[d.Status] && !aws.ToTime(d.StopDate).After(r.at) && time.Since(r.called) < sfnStaleRedrive
}

func lowerStatus(s types.ExecutionStatus) string {
	switch s {
	case types.ExecutionStatusTimedOut:
		return "timed out"
	case types.ExecutionStatusPendingRedrive:
		return "pending redrive"
	}
	return strings.ToLower(string(s))
}
