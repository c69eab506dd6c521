package jobspec

import (
	"errors"
	"strings"
)

// Errors returned by [SplitCommand].
var (
	ErrEmptyCommand      = errors.New("empty command")
	ErrUnterminated      = errors.New("unterminated quote")
	ErrTrailingBackslash = errors.New("trailing backslash")
)

// SplitCommand splits a chunk command into argv the way a POSIX shell
// splits words, without running a shell: blanks (space, tab, newline)
// separate words; single quotes keep everything literal; double quotes
// keep blanks, and within them a backslash escapes only $ ` " \ and
// newline; outside quotes a backslash escapes the next character; ” and
// "" are empty arguments. Nothing else is interpreted: no variables,
// globs, pipes, redirections or ;.
func SplitCommand(s string) ([]string, error) {
	var (
		args   []string
		word   strings.Builder
		inWord bool
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inWord {
				args = append(args, word.String())
				word.Reset()
				inWord = false
			}
		case c == '\\':
			if i+1 >= len(s) {
				return nil, ErrTrailingBackslash
			}
			i++
			if s[i] == '\n' { // a line continuation: removed, as if never there
				continue
			}
			word.WriteByte(s[i])
			inWord = true
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, ErrUnterminated
			}
			word.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case c == '"':
			n, err := doubleQuoted(s[i+1:], &word)
			if err != nil {
				return nil, err
			}
			i += n // n counts the closing quote; the loop steps past it
			inWord = true
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		args = append(args, word.String())
	}
	if len(args) == 0 {
		return nil, ErrEmptyCommand
	}
	return args, nil
}

// doubleQuoted copies the inside of a double-quoted string to w and
// returns how many bytes of s it used, including the closing quote.
func doubleQuoted(s string, w *strings.Builder) (int, error) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return i + 1, nil
		case '\\':
			if i+1 < len(s) {
				switch next := s[i+1]; next {
				case '$', '`', '"', '\\':
					w.WriteByte(next)
					i++
					continue
				case '\n':
					i++
					continue
				}
			}
			w.WriteByte(c)
		default:
			w.WriteByte(c)
		}
	}
	return 0, ErrUnterminated
}
