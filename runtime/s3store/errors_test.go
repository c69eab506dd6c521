package s3store

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/helios-project/helios-scaffold/runtime/store"
)

// sdkError is an error as the SDK returns it for an S3 answer with the
// status, the code and the message.
func sdkError(op string, status int, code, message string) error {
	return &smithy.OperationError{ServiceID: "S3", OperationName: op, Err: &awshttp.ResponseError{
		RequestID: "4442587FB7D0A2F9",
		ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
			Err:      &smithy.GenericAPIError{Code: code, Message: message},
		},
	}}
}

func TestError(t *testing.T) {
	const loc = "s3://renders/job.json"
	refused := &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}, Err: errors.New("connect: connection refused")}
	for _, tc := range []struct {
		name string
		err  error
		kind error
		msg  string
	}{{
		name: "no such key",
		err:  sdkError("GetObject", 404, "NoSuchKey", "The specified key does not exist."),
		kind: store.ErrNotFound,
		msg:  loc + ": not found: GetObject: HTTP 404 NoSuchKey: The specified key does not exist.",
	}, {
		name: "no such bucket",
		err:  sdkError("ListObjectsV2", 404, "NoSuchBucket", "The specified bucket does not exist"),
		kind: store.ErrNotFound,
		msg:  loc + ": not found: ListObjectsV2: HTTP 404 NoSuchBucket: The specified bucket does not exist",
	}, {
		name: "a 404 with no body",
		err:  sdkError("HeadObject", 404, "NotFound", ""),
		kind: store.ErrNotFound,
		msg:  loc + ": not found: HeadObject: HTTP 404 NotFound",
	}, {
		name: "access denied",
		err:  sdkError("PutObject", 403, "AccessDenied", "Access Denied"),
		kind: store.ErrAccessDenied,
		msg:  loc + ": access denied: PutObject: HTTP 403 AccessDenied: Access Denied",
	}, {
		name: "a 403 of another code",
		err:  sdkError("GetObject", 403, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large."),
		kind: store.ErrAccessDenied,
	}, {
		name: "expired token",
		err:  sdkError("GetObject", 400, "ExpiredToken", "The provided token has expired."),
		kind: store.ErrAccessDenied,
	}, {
		name: "no such upload",
		err:  sdkError("UploadPart", 404, "NoSuchUpload", "The specified upload does not exist."),
		msg:  loc + ": UploadPart: HTTP 404 NoSuchUpload: The specified upload does not exist.",
	}, {
		name: "a long message",
		err:  sdkError("GetObject", 500, "InternalError", strings.Repeat("é", 300)),
		msg:  loc + ": GetObject: HTTP 500 InternalError: " + strings.Repeat("é", (maxMessage-len("HTTP 500 InternalError: "))/2) + "…",
	}, {
		name: "connection refused",
		err:  &smithy.OperationError{ServiceID: "S3", OperationName: "GetObject", Err: &retry.MaxAttemptsError{Attempt: 3, Err: refused}},
		msg:  loc + ": GetObject: dial tcp 127.0.0.1:1: connect: connection refused (3 attempts)",
	}, {
		name: "cancelled",
		err:  &smithy.OperationError{ServiceID: "S3", OperationName: "UploadPart", Err: context.Canceled},
		msg:  loc + ": UploadPart: context canceled",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			err := error(newError(loc, tc.err))
			if tc.kind != nil && !errors.Is(err, tc.kind) || tc.kind == nil && (errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrAccessDenied)) {
				t.Errorf("%v: kind %v, want %v", err, err.(*Error).Kind, tc.kind)
			}
			if !errors.Is(err, tc.err) {
				t.Errorf("%v does not wrap the SDK's error", err)
			}
			if tc.msg != "" && err.Error() != tc.msg {
				t.Errorf("message\n%q, want\n%q", err, tc.msg)
			}
			if len(err.Error()) > len(loc)+300 {
				t.Errorf("message of %d bytes: %s", len(err.Error()), err)
			}
		})
	}
}

func TestForcePathStyle(t *testing.T) {
	for v, want := range map[string]bool{"": false, "true": true, "1": true, "TRUE": true, "false": false, "0": false} {
		t.Setenv(EnvForcePathStyle, v)
		if got, err := forcePathStyle(); got != want || err != nil {
			t.Errorf("%s=%q: %v, %v; want %v", EnvForcePathStyle, v, got, err, want)
		}
	}
	t.Setenv(EnvForcePathStyle, "on")
	if _, err := forcePathStyle(); err == nil || err.Error() != EnvForcePathStyle+"=on: want true or false" {
		t.Errorf("%s=on: %v, want an error naming it", EnvForcePathStyle, err)
	}
}
