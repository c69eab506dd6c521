// Package awslambda runs a Helios render worker on AWS Lambda.
//
// A Lambda main is one line:
//
//	func main() { awslambda.Start(worker.New(worker.ConfigFromEnv())) }
//
// [Start] serves invocations through the Lambda Runtime API with
// github.com/aws/aws-lambda-go. Each invocation payload,
// {"jobPath": ..., "chunkIndex": ...}, is answered with
// {"statusCode": ..., "body": "<JSON>"} as the Helios wire contract says:
// the handler never returns a Go error and never panics out, it kills the
// chunk [worker.Config].TimeoutMargin before the invocation deadline so that
// it can still answer, and it keeps the serialised response under Lambda's
// 6 MB limit by cutting the front of the captured output.
//
// A payload whose top object has the key "action" is a merge
// ([jobspec.DecodeMergeRequest]): {"jobPath": ..., "action": "merge",
// "outputs": [...]} or with "resultsUrl", which a Step Functions state
// machine sends once a Distributed Map has rendered the chunks. The
// handler runs it with package runtime/worker/merge, within the same
// deadline, and answers in the same shape, adding "chunks", "frames" and
// "warning" to the body.
//
// Outside Lambda (AWS_LAMBDA_RUNTIME_API unset) [Start] reads one event from
// standard input, prints the response on standard output, and exits 0 when
// the status is 200 and 1 otherwise, so that
//
//	go run ./cmd/worker < event.json
//
// works without an emulator. Logs are JSON lines with a level and, inside
// Lambda, the request id.
//
// The matching caller is in package runtime/awslambda/lambdacaller.
package awslambda
