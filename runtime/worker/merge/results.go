package merge

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/helios-project/helios-scaffold/runtime/store"
)

// Bounds of what ReadMapResults reads: the manifest, and the results
// files together (10,000 children take about 20 MB).
const (
	maxManifestBytes = 16 << 20
	maxResultsBytes  = 256 << 20
)

// ErrResults is wrapped when a ResultWriter export cannot be read as
// AWS documents it.
var ErrResults = errors.New("not a Distributed Map's ResultWriter export")

// MapResults is what a Distributed Map's ResultWriter exported to S3: the
// children executions of its Map Run, each from the results file of its
// status.
type MapResults struct {
	MapRunARN string
	Children  []Child
}

// A Child is one child execution of a Map Run, as a results file holds
// it.
type Child struct {
	// Status is the status that its results file is listed under in the
	// manifest: "SUCCEEDED", "FAILED" or "PENDING".
	Status string
	// Name is the execution's name, or its ARN; "" in a COMPACT export.
	Name string
	// Chunk is the chunkIndex of the child's input, when HasChunk.
	Chunk    int64
	HasChunk bool
	// Answer is the worker's answer that the child's output holds; nil
	// when it holds none (a failed child, an output that is no answer).
	Answer *Answer
	// Why says why there is no Answer: a failed child's error and cause,
	// or what its output holds instead.
	Why string
	// Start and Stop are when the child execution started and stopped;
	// zero when its record does not say (a COMPACT export). A redriven
	// child (Redriven) keeps its first Start: the span holds the wait for
	// the redrive.
	Start, Stop time.Time
	Redriven    bool
}

// Answer is a worker's answer as the item processor outputs it:
// {"statusCode": 200, "body": {...}}, the body an object or the JSON
// string that the Lambda handler returns, or lambda:invoke's whole
// result, whose Payload is that.
type Answer struct {
	StatusCode   int    `json:"-"`
	ExitCode     *int   `json:"exitCode"`
	OutputURL    string `json:"outputUrl"`
	OutputBytes  *int64 `json:"outputBytes"`
	OutputSHA256 string `json:"outputSha256"`
	Message      string `json:"message"`
	ErrorKind    string `json:"errorKind"`
	// DurationMS is how long the chunk's command ran, as the worker timed it.
	DurationMS int64 `json:"durationMs"`
}

// manifest is manifest.json, the ResultWriter's index.
type manifest struct {
	DestinationBucket string
	MapRunArn         string
	ResultFiles       map[string][]struct {
		Key  string
		Size int64
	}
}

// ReadMapResults reads the ResultWriter manifest at location through src,
// and the results files it lists, as AWS documents them: manifest.json
// is {"DestinationBucket", "MapRunArn", "ResultFiles": {"SUCCEEDED":
// [{"Key", "Size"}], "FAILED": [...], "PENDING": [...]}}, and each
// results file a JSON array (or JSON Lines) of the records of children
// executions, whose "Output" is a JSON string of what the child's item
// processor output, "Input" one of its input, "Error" and "Cause" a
// failed one's. A COMPACT export, whose files hold the outputs
// themselves, is read too. A results file is read at
// scheme://DestinationBucket/Key on a bucket store, and beside the
// manifest elsewhere (a local copy of an export).
func ReadMapResults(ctx context.Context, src store.Source, location string) (*MapResults, error) {
	data, err := readAll(ctx, src, location, maxManifestBytes)
	if err != nil {
		return nil, fmt.Errorf("reading the Map Run's results %s: %w", location, err)
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil || m.ResultFiles == nil {
		return nil, fmt.Errorf("%w: %s holds no ResultFiles", ErrResults, location)
	}
	mr := &MapResults{MapRunARN: m.MapRunArn}
	left := int64(maxResultsBytes)
	statuses := slices.Sorted(func(yield func(string) bool) {
		for s := range m.ResultFiles {
			if !yield(s) {
				return
			}
		}
	})
	for _, status := range statuses {
		for _, f := range m.ResultFiles[status] {
			if f.Key == "" {
				return nil, fmt.Errorf("%w: %s lists a %s results file without a Key", ErrResults, location, status)
			}
			file := resultsFile(location, m.DestinationBucket, f.Key)
			n, err := readChildren(ctx, src, file, status, left, func(c Child) { mr.Children = append(mr.Children, c) })
			if err != nil {
				return nil, fmt.Errorf("reading the Map Run's results %s: %w", file, err)
			}
			left -= n
		}
	}
	return mr, nil
}

// resultsFile is where the results file key of the export whose manifest
// is at location lives.
func resultsFile(location, bucket, key string) string {
	loc := store.ParseLocation(location)
	if b, _, err := store.SplitBucket(location); err == nil {
		return loc.Scheme + "://" + cmp.Or(bucket, b) + "/" + strings.TrimPrefix(key, "/")
	}
	dir, _ := path.Split(location)
	return dir + path.Base(key)
}

// readAll reads the document at location, at most limit bytes.
func readAll(ctx context.Context, src store.Source, location string, limit int64) ([]byte, error) {
	rc, err := src.Open(ctx, location)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w of %d bytes", store.ErrTooLarge, limit)
	}
	return data, nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// readChildren reads the records of the results file at location, listed
// under status, one at a time, at most limit bytes, and returns the bytes
// read.
func readChildren(ctx context.Context, src store.Source, location, status string, limit int64, add func(Child)) (int64, error) {
	rc, err := src.Open(ctx, location)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	cr := &countingReader{r: io.LimitReader(rc, limit+1)}
	br := bufio.NewReader(cr)
	first, err := peekValue(br)
	if err != nil {
		return cr.n, err
	}
	if first == 0 {
		return cr.n, nil // an empty file lists no child
	}
	dec := json.NewDecoder(br)
	array := first == '['
	if array {
		if _, err := dec.Token(); err != nil {
			return cr.n, fmt.Errorf("%w: %w", ErrResults, err)
		}
	}
	for !array || dec.More() {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if !array && errors.Is(err, io.EOF) {
			break
		}
		if cr.n > limit {
			return cr.n, fmt.Errorf("%w: the results files are over %d bytes", store.ErrTooLarge, int64(maxResultsBytes))
		}
		if err != nil {
			return cr.n, fmt.Errorf("%w: %w", ErrResults, err)
		}
		add(childOf(raw, status))
	}
	return cr.n, nil
}

// peekValue returns the first byte of the document past white space, 0
// for an empty one.
func peekValue(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.Peek(1)
		if errors.Is(err, io.EOF) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		if !bytes.ContainsRune([]byte(" \t\r\n"), rune(b[0])) {
			return b[0], nil
		}
		_, _ = br.ReadByte()
	}
}

// record is a child execution as a results file (of the default, NONE,
// transformation) holds it.
type record struct {
	Name, ExecutionArn  string
	Input, Output       json.RawMessage // JSON strings of JSON documents
	Error, Cause        string
	StartDate, StopDate string // RFC 3339
	RedriveCount        int
}

// childOf reads one element of a results file listed under status.
func childOf(raw json.RawMessage, status string) Child {
	c := Child{Status: status}
	var keys map[string]json.RawMessage
	if json.Unmarshal(raw, &keys) != nil {
		c.Why = "a results entry is not a JSON object"
		return c
	}
	_, hasOutput := keys["Output"]
	_, hasStatus := keys["Status"]
	if _, ok := keys["statusCode"]; ok && !hasOutput && !hasStatus { // a COMPACT export: the output itself
		c.Answer, c.Why = answerOf(raw)
		return c
	}
	var rec record
	_ = json.Unmarshal(raw, &rec) // fields of another type stay empty
	c.Name = cmp.Or(rec.Name, rec.ExecutionArn)
	c.Chunk, c.HasChunk = chunkOf(unquote(rec.Input))
	c.Start, _ = time.Parse(time.RFC3339Nano, rec.StartDate)
	c.Stop, _ = time.Parse(time.RFC3339Nano, rec.StopDate)
	c.Redriven = rec.RedriveCount > 0
	if rec.Error != "" || rec.Cause != "" {
		c.Why = clipText(strings.TrimSuffix(rec.Error+": "+rec.Cause, ": "), 300)
	}
	if out := unquote(rec.Output); len(out) > 0 && string(out) != "null" {
		var why string
		if c.Answer, why = answerOf(out); c.Why == "" {
			c.Why = why
		}
	}
	switch {
	case c.Answer != nil, c.Why != "":
	case status != "SUCCEEDED":
		c.Why = "the Map Run lists it as " + status
	default:
		c.Why = "its results hold no output"
	}
	return c
}

// unquote is the JSON document that raw, a JSON string, holds; raw
// itself when it is no string.
func unquote(raw json.RawMessage) json.RawMessage {
	var s string
	if len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
		return json.RawMessage(s)
	}
	return raw
}

// answerOf reads a worker's answer from an item processor's output, or
// says why it holds none.
func answerOf(out json.RawMessage) (*Answer, string) {
	var doc map[string]json.RawMessage // exact keys: lambda:invoke's result has a StatusCode of its own
	if json.Unmarshal(out, &doc) != nil || doc == nil {
		return nil, "its output is not a JSON object"
	}
	code, hasCode := doc["statusCode"]
	if payload, ok := doc["Payload"]; ok && !hasCode { // lambda:invoke's result, Payload and all
		return answerOf(payload)
	}
	a := &Answer{}
	if !hasCode || json.Unmarshal(code, &a.StatusCode) != nil {
		return nil, "its output has no statusCode: " + clipText(string(out), 200)
	}
	if body := unquote(doc["body"]); len(body) > 0 && json.Unmarshal(body, a) != nil {
		return nil, "its output's body is not a worker's answer: " + clipText(string(body), 200)
	}
	return a, ""
}

// chunkOf is the chunkIndex of a child's input, when it has one that is
// a non-negative integer.
func chunkOf(input json.RawMessage) (int64, bool) {
	var in struct {
		ChunkIndex json.Number `json:"chunkIndex"`
	}
	if json.Unmarshal(input, &in) != nil || in.ChunkIndex == "" {
		return 0, false
	}
	if n, err := in.ChunkIndex.Int64(); err == nil {
		return n, n >= 0
	}
	f, err := in.ChunkIndex.Float64()
	if err != nil || f < 0 || f >= 1<<53 || f != math.Trunc(f) {
		return 0, false
	}
	return int64(f), true
}

// clipText is s on one line, cut to at most n bytes at a character
// boundary.
func clipText(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
