package gcsstore

import (
	"fmt"
	"io"
	"strings"

	"github.com/helios-project/helios-scaffold/runtime/store"
)

// Matches reports whether obj, as List gave it, holds the size bytes of
// src: the same size and the CRC32C that Cloud Storage keeps for every
// object. A gzip-encoded object never matches: its CRC32C is of the
// compressed bytes.
func (s *Store) Matches(obj store.Object, src io.ReaderAt, size int64) (bool, error) {
	if obj.Size != size || obj.Encoded {
		return false, nil
	}
	_, listed, ok := strings.Cut(obj.Version, "/")
	want, okCRC := decodeCRC(listed)
	if !ok || !okCRC {
		return false, nil
	}
	h := newCRC()
	if _, err := io.Copy(h, io.NewSectionReader(src, 0, size)); err != nil {
		return false, fmt.Errorf("computing CRC32C: %w", err)
	}
	return h.Sum32() == want, nil
}

// VerifiesDownloads reports that Download and DownloadVersion check what
// they receive against the object's CRC32C (a mismatch wraps
// [ErrChecksum]), so that a caller need not read the file again.
func (s *Store) VerifiesDownloads() bool { return true }
