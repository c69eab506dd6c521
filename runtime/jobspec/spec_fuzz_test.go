package jobspec_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
)

// hasDuplicateKey is the slow, plain reference for Parse's own
// scanner: encoding/json's tokens, a set of keys per object.
func hasDuplicateKey(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		obj     bool
		wantKey bool
		keys    map[string]bool
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch d, _ := tok.(json.Delim); {
		case d == '}' || d == ']':
			stack = stack[:len(stack)-1]
			if len(stack) > 0 && stack[len(stack)-1].obj {
				stack[len(stack)-1].wantKey = true
			}
		case top != nil && top.obj && top.wantKey:
			k := tok.(string)
			if top.keys[k] {
				return true
			}
			top.keys[k], top.wantKey = true, false
		case d == '{' || d == '[':
			stack = append(stack, &frame{obj: d == '{', wantKey: d == '{', keys: map[string]bool{}})
		case top != nil && top.obj:
			top.wantKey = true
		}
	}
}

func FuzzParseSpec(f *testing.F) {
	for _, seed := range []string{
		`{"chunks":[{"id":0,"command":"true"}]}`,
		`{"chunks":[],"chunks":[]}`,
		`{"chunks":[{"id":0,"command":"a","command":"b"}]}`,
		`{"x":{"a\u0062":1,"ab":2},"chunks":[]}`,
		`{"x":[[{"k":1}],{"k":{"k":1,"j":[1,{"k":2,"k":3}]}}],"chunks":[]}`,
		`{"Chunks":[]}`,
		`{"chunks":[{"id":1},{"id":1}]}`,
		`{"metadata":{"fps":30},"chunks":[{"id":0,"outputFile":"o","command":"helios render c.html -o o"}],"mergeCommand":"helios merge out.mp4 o"}`,
		` { "a" : "\"}" , "a\"" : 1 , "chunks" : [ ] } `,
		"{\"\xff\":1,\"\xfe\":2,\"chunks\":[]}", // both read as U+FFFD
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := jobspec.Parse(data)
		dup := json.Valid(data) && bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("{")) && hasDuplicateKey(data)
		switch {
		case err == nil && dup:
			t.Fatalf("Parse(%q) accepted a spec with a key twice", data)
		case err == nil:
			ids := map[int64]bool{}
			for _, c := range spec.Chunks {
				if ids[c.ID] {
					t.Fatalf("Parse(%q) accepted two chunks with id %d", data, c.ID)
				}
				ids[c.ID] = true
			}
		case dup && !errors.Is(err, jobspec.ErrAmbiguousJSON):
			t.Fatalf("Parse(%q) = %v, want the key twice refused", data, err)
		case strings.Contains(err.Error(), "appears twice") && !dup:
			t.Fatalf("Parse(%q) = %v, but no object has a key twice", data, err)
		}
	})
}
