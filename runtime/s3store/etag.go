package s3store

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/helios-project/helios-scaffold/runtime/store"
)

// Matches reports whether obj, as List gave it, holds the size bytes of
// src: the same size and the ETag that S3 gives those bytes, as Put
// stores them (the MD5 of a single PutObject, or the MD5 of the parts'
// MD5s and their count for a multipart upload of partSize parts). An
// object stored otherwise (other part sizes, SSE-KMS) does not match, so
// a sync uploads it again rather than keep other bytes.
func (s *Store) Matches(obj store.Object, src io.ReaderAt, size int64) (bool, error) {
	if obj.Size != size {
		return false, nil
	}
	whole, multipart, err := etags(src, size, partSize)
	if err != nil {
		return false, err
	}
	tag := strings.Trim(obj.Version, `"`)
	return tag == whole || tag == multipart, nil
}

// etags computes, in one read of src, the ETag of a single-part upload
// and that of a multipart upload of part-byte parts.
func etags(src io.ReaderAt, size, part int64) (whole, multipart string, err error) {
	all, parts := md5.New(), md5.New()
	n := max(1, (size+part-1)/part)
	for i := range n {
		off := i * part
		h := md5.New()
		if _, err := io.Copy(io.MultiWriter(h, all), io.NewSectionReader(src, off, min(part, size-off))); err != nil {
			return "", "", fmt.Errorf("computing ETag: %w", err)
		}
		parts.Write(h.Sum(nil))
	}
	return hex.EncodeToString(all.Sum(nil)), fmt.Sprintf("%s-%d", hex.EncodeToString(parts.Sum(nil)), n), nil
}
