package fanout

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// specKeys are the keys a job spec may hold, by place: "" is the top
// object, "metadata" its metadata object, "chunks[]" each chunk. They are
// what the workers read and what helios render --emit-job writes.
var specKeys = map[string][]string{
	"":         {"id", "assetsUrl", "outputUrl", "metadata", "chunks", "mergeCommand"},
	"metadata": {"totalFrames", "fps", "width", "height", "duration"},
	"chunks[]": {"id", "startFrame", "frameCount", "outputFile", "command"},
}

// checkSpec looks at what the workers would pass over in silence: keys
// they do not read and chunks they could not run. A key that is a near
// miss of a known one ("mergeComand", "comand", "output") and a chunk
// without a command are errors; another unknown key is a warning.
func checkSpec(data []byte) (warnings []string, err error) {
	var doc, meta map[string]json.RawMessage
	var chunks []map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	json.Unmarshal(doc["metadata"], &meta) // the worker's parser has checked the types
	json.Unmarshal(doc["chunks"], &chunks)
	var problems []string
	look := func(place, where string, obj map[string]json.RawMessage) {
		for _, key := range slices.Sorted(maps.Keys(obj)) {
			if slices.Contains(specKeys[place], key) {
				continue
			}
			if known := nearMiss(key, specKeys[place]); known != "" {
				problems = append(problems, fmt.Sprintf("%s: unknown key %q: did you mean %q?", where, key, known))
			} else {
				warnings = append(warnings, fmt.Sprintf("%s: unknown key %q is passed over", where, key))
			}
		}
	}
	look("", "the spec", doc)
	look("metadata", "metadata", meta)
	for i, c := range chunks {
		where := fmt.Sprintf("chunks[%d]", i)
		look("chunks[]", where, c)
		var command string
		if json.Unmarshal(c["command"], &command); strings.TrimSpace(command) == "" {
			problems = append(problems, where+" has no command")
		}
	}
	if len(problems) > 0 {
		return warnings, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return warnings, nil
}

// nearMiss returns the known key that key is a slip of: the same but for
// case, one a prefix of the other (of four letters or more), or one or
// two edits away (one for keys under six letters); "" for none.
func nearMiss(key string, known []string) string {
	k := strings.ToLower(key)
	for _, want := range known {
		w := strings.ToLower(want)
		short := min(len(k), len(w))
		limit := 2
		if short < 6 {
			limit = 1
		}
		switch {
		case k == w, short >= 4 && (strings.HasPrefix(w, k) || strings.HasPrefix(k, w)),
			editDistance(k, w) <= limit:
			return want
		}
	}
	return ""
}

// editDistance is the optimal string alignment distance of a and b:
// insertions, deletions, substitutions and swaps of neighbours.
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
