package gcsstore_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/helios-project/helios-scaffold/runtime/gcsstore"
)

// What Put stores matches its own bytes and no others; a gzip-encoded
// object matches nothing.
func TestMatches(t *testing.T) {
	srv := start(t)
	srv.CreateBucket("matches")
	s := gcsstore.New()
	data := map[string][]byte{}
	for i, n := range []int{0, 100, gcsstore.DefaultChunkSize + 5} {
		name := fmt.Sprintf("f%d", n)
		data[name] = randomBytes(n, uint64(i))
		if err := s.Put(testContext(t), "gs://matches/m/"+name, bytes.NewReader(data[name]), int64(n)); err != nil {
			t.Fatal(err)
		}
	}
	srv.Fake().CreateObject(fakestorage.Object{
		ObjectAttrs: fakestorage.ObjectAttrs{BucketName: "matches", Name: "m/gz", ContentEncoding: "gzip"},
		Content:     []byte("not really gzip"),
	})
	data["gz"] = []byte("not really gzip")
	objs, err := s.List(testContext(t), "gs://matches/m")
	if err != nil || len(objs) != len(data) {
		t.Fatalf("List = %v, %v", objs, err)
	}
	for _, o := range objs {
		b := data[o.Path]
		ok, err := s.Matches(o, bytes.NewReader(b), int64(len(b)))
		if want := o.Path != "gz"; ok != want || err != nil {
			t.Errorf("%s (version %s): Matches its own bytes = %v, %v; want %v", o.Path, o.Version, ok, err, want)
		}
		if len(b) == 0 {
			continue
		}
		other := bytes.Clone(b)
		other[0] ^= 1
		if ok, _ := s.Matches(o, bytes.NewReader(other), int64(len(other))); ok {
			t.Errorf("%s: Matches bytes with the first one changed", o.Path)
		}
	}
}
