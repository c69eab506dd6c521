package s3store_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/helios-project/helios-scaffold/internal/s3test"
)

// What Put stores, single PutObject or multipart, matches its own bytes
// and no others.
func TestMatches(t *testing.T) {
	srv := s3test.Shared(t)
	srv.CreateBucket(t, "matches")
	st := newStore(srv)
	ctx := testContext(t)
	sizes := []int{0, 100, 5<<20 - 1, 5 << 20, 12<<20 + 7}
	data := map[string][]byte{}
	for _, n := range sizes {
		name := fmt.Sprintf("f%d", n)
		data[name] = randomBytes(n)
		if err := st.Put(ctx, "s3://matches/m/"+name, bytes.NewReader(data[name]), int64(n)); err != nil {
			t.Fatal(err)
		}
	}
	objs, err := st.List(ctx, "s3://matches/m")
	if err != nil || len(objs) != len(sizes) {
		t.Fatalf("List = %v, %v", objs, err)
	}
	for _, o := range objs {
		b := data[o.Path]
		if ok, err := st.Matches(o, bytes.NewReader(b), int64(len(b))); !ok || err != nil {
			t.Errorf("%s (ETag %s): Matches its own bytes = %v, %v", o.Path, o.Version, ok, err)
		}
		if len(b) == 0 {
			continue
		}
		other := bytes.Clone(b)
		other[len(other)-1] ^= 1
		if ok, _ := st.Matches(o, bytes.NewReader(other), int64(len(other))); ok {
			t.Errorf("%s: Matches bytes with the last one changed", o.Path)
		}
		if ok, _ := st.Matches(o, bytes.NewReader(b[1:]), int64(len(b)-1)); ok {
			t.Errorf("%s: Matches a shorter file", o.Path)
		}
	}
}
