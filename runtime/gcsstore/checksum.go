package gcsstore

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"net/http"
	"strings"

	"github.com/helios-project/helios-scaffold/runtime/internal/fsutil"
)

// newCRC returns a CRC32C (Castagnoli) hash, the one GCS keeps for every
// object.
func newCRC() hash.Hash32 { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) }

// encodeCRC is the JSON API's form of a CRC32C: base64 of its four bytes,
// big-endian.
func encodeCRC(sum uint32) string {
	return base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, sum))
}

func decodeCRC(s string) (uint32, bool) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != 4 {
		return 0, false
	}
	return binary.BigEndian.Uint32(b), true
}

// hashHeader returns the crc32c of an X-Goog-Hash header, which GCS sends
// as one value or several: "crc32c=n03x6A==,md5=...".
func hashHeader(h http.Header) (uint32, bool) {
	for _, v := range h.Values("X-Goog-Hash") {
		for part := range strings.SplitSeq(v, ",") {
			name, value, _ := strings.Cut(strings.TrimSpace(part), "=")
			if name == "crc32c" {
				return decodeCRC(value)
			}
		}
	}
	return 0, false
}

// checksum reads size bytes of src and returns their CRC32C.
func checksum(ctx context.Context, src io.ReaderAt, size int64) (uint32, error) {
	crc := newCRC()
	n, err := io.CopyBuffer(crc, fsutil.Reader(ctx, io.NewSectionReader(src, 0, size)), make([]byte, copyBuffer))
	if err == nil && n != size {
		err = fmt.Errorf("read %d of %d bytes", n, size)
	}
	return crc.Sum32(), err
}
