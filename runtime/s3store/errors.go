package s3store

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/smithy-go"
	"github.com/helios-project/helios-scaffold/runtime/store"
)

// Error is a failed S3 request, or a transfer that failed around one. Its
// message is short and names the location, the kind of failure, the S3
// operation, the HTTP status and S3's error code:
//
//	s3://renders/job.json: not found: GetObject: HTTP 404 NoSuchKey: The specified key does not exist.
//
// It wraps [store.ErrNotFound] or [store.ErrAccessDenied] when S3 said
// so, and the SDK's error, for errors.As to a smithy.APIError or an
// awshttp.ResponseError (which holds the request id).
type Error struct {
	Location string // "s3://bucket/key"
	Kind     error  // store.ErrNotFound, store.ErrAccessDenied, or nil
	Err      error  // the SDK's error
}

func newError(location string, err error) *Error {
	return &Error{Location: location, Kind: kind(err), Err: err}
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Location)
	b.WriteString(": ")
	if e.Kind != nil {
		b.WriteString(e.Kind.Error())
		b.WriteString(": ")
	}
	if op, ok := errors.AsType[*smithy.OperationError](e.Err); ok {
		b.WriteString(op.Operation())
		b.WriteString(": ")
	}
	b.WriteString(summary(e.Err))
	return b.String()
}

// Unwrap returns Kind, when there is one, and Err.
func (e *Error) Unwrap() []error {
	if e.Kind == nil {
		return []error{e.Err}
	}
	return []error{e.Kind, e.Err}
}

// S3's error codes for a missing bucket or object, and for credentials or
// permissions it refused. Any other 404 or 403 counts as well; NoSuchUpload
// (a multipart upload aborted meanwhile) is no missing location.
var (
	notFoundCodes = []string{"NoSuchBucket", "NoSuchKey", "NotFound"}
	deniedCodes   = []string{
		"AccessDenied", "AllAccessDisabled", "AccountProblem", "ExpiredToken",
		"InvalidAccessKeyId", "InvalidToken", "SignatureDoesNotMatch", "TokenRefreshRequired",
	}
)

// kind tells a missing location and refused credentials from other
// failures.
func kind(err error) error {
	var code string
	if apiErr, ok := errors.AsType[smithy.APIError](err); ok {
		code = apiErr.ErrorCode()
	}
	switch {
	case slices.Contains(notFoundCodes, code):
		return store.ErrNotFound
	case slices.Contains(deniedCodes, code):
		return store.ErrAccessDenied
	case code == "NoSuchUpload":
		return nil
	}
	switch status(err) {
	case http.StatusPreconditionFailed: // If-Match: the object is another now
		return store.ErrChanged
	case http.StatusNotFound:
		return store.ErrNotFound
	case http.StatusForbidden:
		return store.ErrAccessDenied
	}
	return nil
}

// status is the HTTP status of S3's answer, or 0 when none came.
func status(err error) int {
	if resp, ok := errors.AsType[*awshttp.ResponseError](err); ok {
		return resp.HTTPStatusCode()
	}
	return 0
}

// maxMessage bounds S3's message in an error, in bytes.
const maxMessage = 200

// summary says what went wrong without the SDK's wrappers ("operation
// error S3: GetObject, https response error StatusCode: 404, RequestID:
// …, HostID: …"): S3's answer when there was one, else the network error.
func summary(err error) string {
	if apiErr, ok := errors.AsType[smithy.APIError](err); ok {
		s := strings.TrimSpace(apiErr.ErrorCode() + ": " + apiErr.ErrorMessage())
		s = strings.TrimSuffix(s, ":")
		if st := status(err); st != 0 {
			s = fmt.Sprintf("HTTP %d %s", st, s)
		}
		return truncate(s, maxMessage)
	}
	var suffix string
	if attempts, ok := errors.AsType[*retry.MaxAttemptsError](err); ok {
		suffix = fmt.Sprintf(" (%d attempts)", attempts.Attempt)
	}
	if netErr, ok := errors.AsType[*net.OpError](err); ok {
		return netErr.Error() + suffix
	}
	if op, ok := errors.AsType[*smithy.OperationError](err); ok {
		err = op.Err
	} else if mpu, ok := errors.AsType[transfermanager.MultipartUploadError](err); ok && errors.Unwrap(mpu) != nil {
		err = errors.Unwrap(mpu) // "upload multipart failed, upload id: …, cause: …"
	}
	return err.Error() + suffix
}

// truncate cuts s to at most n bytes and an ellipsis, at a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
