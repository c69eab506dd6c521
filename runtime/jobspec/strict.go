package jobspec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/helios-project/helios-scaffold/runtime/internal/msg"
)

// ErrAmbiguousJSON is wrapped when a payload or a job spec could be read
// two ways: an object holds a key twice (encoding/json keeps the last, a
// proxy or a validator may read the first), a key differs from a field
// the worker reads only in case (encoding/json would take it, the
// TypeScript worker would not), or two chunks have one id. The platforms
// answer it with 400.
var ErrAmbiguousJSON = errors.New("ambiguous JSON")

// shape names, for each place in a document, the fields read there: ""
// is the top object, "a" the object in member a, "a[]" the objects in
// array a.
type shape map[string][]string

var (
	payloadShape = shape{"": {"jobPath", "chunkIndex", "attempt", "failAsError"}}
	specShape    = shape{
		"":         {"id", "assetsUrl", "outputUrl", "metadata", "chunks", "mergeCommand"},
		"metadata": {"totalFrames", "fps", "width", "height", "duration"},
		"chunks[]": {"id", "startFrame", "frameCount", "outputFile", "command"},
	}
)

// checkKeys reads data, a valid JSON document, and refuses an object
// with a key twice, and a key that differs from one of the shape's fields
// only in case. It scans the bytes itself: encoding/json's Decoder.Token
// costs an allocation per token, six times the decoding of the spec.
func checkKeys(data []byte, sh shape) error {
	k := keyScanner{data: data, sh: sh}
	k.space()
	return k.value(nil, "")
}

// keyScanner walks a valid JSON document.
type keyScanner struct {
	data []byte
	i    int
	sh   shape
}

// jsonPlace is where a value is, for messages: the member key of an
// object, or the index in an array, below its parent.
type jsonPlace struct {
	parent *jsonPlace
	key    []byte // nil in an array
	index  int
}

func (p *jsonPlace) String() string {
	if p == nil {
		return ""
	}
	parent := p.parent.String()
	if p.key == nil {
		return parent + "[" + strconv.Itoa(p.index) + "]"
	}
	if parent == "" {
		return string(p.key)
	}
	return parent + "." + string(p.key)
}

func (k *keyScanner) space() {
	for k.i < len(k.data) && (k.data[k.i] == ' ' || k.data[k.i] == '\t' || k.data[k.i] == '\n' || k.data[k.i] == '\r') {
		k.i++
	}
}

// value reads the value at k.i, at where, whose place in the shape is
// place.
func (k *keyScanner) value(where *jsonPlace, place string) error {
	switch k.data[k.i] {
	case '{':
		return k.object(where, place)
	case '[':
		return k.array(where, place)
	case '"':
		k.str()
	default:
		for k.i < len(k.data) && !bytes.ContainsRune([]byte(",]} \t\r\n"), rune(k.data[k.i])) {
			k.i++
		}
	}
	return nil
}

// str reads a string, and returns its contents as encoding/json reads
// them (decoded only when they hold an escape or invalid UTF-8).
func (k *keyScanner) str() []byte {
	start := k.i
	k.i++
	escaped := false
	for k.data[k.i] != '"' {
		if k.data[k.i] == '\\' {
			escaped = true
			k.i++
		}
		k.i++
	}
	k.i++
	raw := k.data[start:k.i]
	if !escaped && utf8.Valid(raw) { // encoding/json reads invalid UTF-8 as U+FFFD
		return raw[1 : len(raw)-1]
	}
	var s string
	_ = json.Unmarshal(raw, &s) // valid: the document was checked
	return []byte(s)
}

func (k *keyScanner) array(where *jsonPlace, place string) error {
	k.i++
	elem := &jsonPlace{parent: where}
	elemPlace := place + "[]"
	for {
		k.space()
		if k.data[k.i] == ']' {
			k.i++
			return nil
		}
		if k.data[k.i] == ',' {
			k.i++
			elem.index++
			k.space()
		}
		if err := k.value(elem, elemPlace); err != nil {
			return err
		}
	}
}

func (k *keyScanner) object(where *jsonPlace, place string) error {
	k.i++
	fields := k.sh[place]
	var seen keySet
	seen.few = seen.buf[:0]
	member := &jsonPlace{parent: where} // one for all members: used only while each is read
	for {
		k.space()
		switch k.data[k.i] {
		case '}':
			k.i++
			return nil
		case ',':
			k.i++
			k.space()
		}
		key := k.str()
		if err := checkKey(key, &seen, fields, where); err != nil {
			return err
		}
		k.space()
		k.i++ // the colon
		k.space()
		childPlace := ""
		if c := k.data[k.i]; c == '{' || c == '[' {
			childPlace = join(place, string(key))
		}
		member.key = key
		if err := k.value(member, childPlace); err != nil {
			return err
		}
	}
}

// keySet holds the keys of one object: in a slice while they are few
// (an object of the spec has five or six), in a map past that.
type keySet struct {
	buf  [8][]byte
	few  [][]byte
	many map[string]struct{}
}

// add adds key, and reports false when it was there already.
func (s *keySet) add(key []byte) bool {
	if s.many != nil {
		if _, ok := s.many[string(key)]; ok {
			return false
		}
		s.many[string(key)] = struct{}{}
		return true
	}
	for _, k := range s.few {
		if bytes.Equal(k, key) {
			return false
		}
	}
	s.few = append(s.few, key)
	if len(s.few) > 16 {
		s.many = make(map[string]struct{}, 2*len(s.few))
		for _, k := range s.few {
			s.many[string(k)] = struct{}{}
		}
	}
	return true
}

// checkKey refuses key in the object at where, which holds seen already
// and whose known fields are fields.
func checkKey(key []byte, seen *keySet, fields []string, where *jsonPlace) error {
	if !seen.add(key) {
		return fmt.Errorf("%w: key %s appears twice%s", ErrAmbiguousJSON, msg.Key(string(key)), in(where))
	}
	for _, field := range fields {
		if string(key) != field && bytes.EqualFold(key, []byte(field)) {
			return fmt.Errorf("%w: key %s%s is not %q (keys are case-sensitive)", ErrAmbiguousJSON, msg.Key(string(key)), in(where), field)
		}
	}
	return nil
}

func in(where *jsonPlace) string {
	if w := where.String(); w != "" {
		return " in " + w
	}
	return ""
}

func join(place, key string) string {
	if place == "" {
		return key
	}
	return place + "." + key
}
