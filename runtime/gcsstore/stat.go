package gcsstore

import (
	"context"
	"fmt"

	"github.com/helios-project/helios-scaffold/runtime/store"
)

var _ store.Stater = (*Store)(nil)

// Stat implements [store.Stater]: the size of the object at location,
// from its metadata; a missing object wraps [store.ErrNotFound]. It needs
// storage.objects.get (roles/storage.objectViewer) on the bucket.
func (s *Store) Stat(ctx context.Context, location string) (int64, error) {
	svc, r, err := s.resolve(ctx, location)
	if err != nil {
		return 0, err
	}
	if r.key == "" {
		return 0, fmt.Errorf("%s: no object name", location)
	}
	obj, err := svc.Objects.Get(r.bucket, r.key).Fields("size").Context(ctx).Do()
	if err != nil {
		return 0, locate(location, err)
	}
	return int64(obj.Size), nil
}
