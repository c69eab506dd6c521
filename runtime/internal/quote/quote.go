// Package quote quotes untrusted names (JSON keys, object keys) for error
// messages, cut short so that one bad name cannot fill a log line.
package quote

import "strconv"

// MaxKey is how many bytes of a name [Key] quotes.
const MaxKey = 64

// Key quotes name as Go would, cut to its first MaxKey bytes and followed
// by "…" when it was longer.
func Key(name string) string {
	if len(name) > MaxKey {
		return strconv.Quote(name[:MaxKey]) + "…"
	}
	return strconv.Quote(name)
}
