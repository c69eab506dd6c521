package gcsstore

// WithPageSize sets the number of objects per List page, so that tests
// list more than one page of a few objects.
func WithPageSize(n int64) Option {
	return func(s *Store) { s.pageSize = n }
}
