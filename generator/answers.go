package generator

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// AnswersFile is the name of the answers file, at the repository's root.
const AnswersFile = ".helios-scaffold.json"

// Errors about the answers file.
var (
	ErrNoAnswers  = errors.New("no " + AnswersFile + " here or in a parent directory: run helios-scaffold init first")
	ErrBadAnswers = errors.New("answers file is corrupt")
	// ErrTargetMismatch: init for one target where another was scaffolded.
	ErrTargetMismatch = errors.New("target differs from the recorded one")
)

// Answers is what init records and generate renders from: the version of
// helios-scaffold that wrote the files, every input, and the sha256 of
// each file as last written, which tells a user's edit from our output.
type Answers struct {
	Version string `json:"version"`
	Inputs  Inputs `json:"inputs"`
	// Files maps each path written to "sha256:" and its hex digest.
	Files map[string]string `json:"files"`
}

// Marshal returns the answers as indented JSON with sorted keys, so that
// the same answers are always the same bytes.
func (a Answers) Marshal() []byte {
	b, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		panic(err) // only strings, ints and maps of strings
	}
	return append(b, '\n')
}

// ParseAnswers decodes and checks an answers file strictly: unknown
// fields, invalid inputs and malformed hashes are errors wrapping
// [ErrBadAnswers].
func ParseAnswers(data []byte) (*Answers, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var a Answers
	if err := dec.Decode(&a); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadAnswers, err)
	}
	// dec.More would miss a stray '}' or ']': only the end may follow.
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrBadAnswers)
	}
	if a.Version == "" {
		return nil, fmt.Errorf("%w: no version", ErrBadAnswers)
	}
	// Answers written before the browser pin was recorded get the one
	// their Dockerfile was written with.
	a.Inputs.SetRenderDefaults()
	if err := a.Inputs.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadAnswers, err)
	}
	for _, p := range sortedKeys(a.Files) {
		h := a.Files[p]
		if !fs.ValidPath(p) || path.Clean(p) != p || p == "." || p == AnswersFile {
			return nil, fmt.Errorf("%w: file %q is not a clean relative path", ErrBadAnswers, p)
		}
		hexPart, ok := strings.CutPrefix(h, "sha256:")
		// Lower case only, as Hash writes: another spelling never matches.
		if raw, err := hex.DecodeString(hexPart); !ok || err != nil || len(raw) != sha256.Size || hex.EncodeToString(raw) != hexPart {
			return nil, fmt.Errorf("%w: file %s: hash %q is not sha256:<64 hex digits>", ErrBadAnswers, p, h)
		}
	}
	return &a, nil
}

// ReadAnswers reads dir's answers file; it returns nil, nil when there is none.
func ReadAnswers(dir string) (*Answers, error) {
	name := filepath.Join(dir, AnswersFile)
	data, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	a, err := ParseAnswers(data)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w; fix it, or delete it and run helios-scaffold init again", name, err)
	}
	return a, nil
}

// FindRoot returns dir or the nearest parent of it that holds an answers
// file, as go generate runs in the package directory, not at the root.
func FindRoot(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("finding %s: %w", AnswersFile, err)
	}
	for d := abs; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, AnswersFile)); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("%s: %w", dir, ErrNoAnswers)
		}
	}
}

// Hash returns the digest recorded for data.
func Hash(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}
