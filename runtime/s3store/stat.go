package s3store

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/helios-project/helios-scaffold/runtime/store"
)

var _ store.Stater = (*Store)(nil)

// Stat implements [store.Stater]: the size of the object at location,
// from a HEAD request; a missing object wraps [store.ErrNotFound]. A
// Cloud Run job's retried task, and a caller that wants to know whether a
// chunk is done, ask it. It needs s3:GetObject on the object (and
// s3:ListBucket on the bucket for S3 to answer 404 rather than 403).
func (s *Store) Stat(ctx context.Context, location string) (int64, error) {
	bucket, key, err := objectLocation(location)
	if err != nil {
		return 0, err
	}
	client, _, err := s.clients(ctx)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", location, err)
	}
	out, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return 0, newError(location, err)
	}
	return aws.ToInt64(out.ContentLength), nil
}
