// Package msg shapes error messages about untrusted input: it quotes
// names (JSON keys, object keys) cut short, so that one bad name cannot
// fill a log line ([Key]), and drops the location a store's error starts
// with where the message names it already ([TrimLocation]).
package msg

import (
	"strconv"
	"strings"
)

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

// TrimLocation drops the "LOCATION: " that a store's error starts with,
// where the caller's own message names the location already; errors.Is
// and errors.As still see err.
func TrimLocation(err error, location string) error {
	if m, ok := strings.CutPrefix(err.Error(), location+": "); ok {
		return locatedError{msg: m, err: err}
	}
	return err
}

type locatedError struct {
	msg string
	err error
}

func (e locatedError) Error() string { return e.msg }
func (e locatedError) Unwrap() error { return e.err }
