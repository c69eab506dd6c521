package merge

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/helios-project/helios-scaffold/runtime/fanout"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
	"github.com/helios-project/helios-scaffold/runtime/store"
	"github.com/helios-project/helios-scaffold/runtime/worker"
	"github.com/helios-project/helios-scaffold/runtime/worker/internal/fault"
)

// expected are the chunks of a job that put an output, and where their
// workers put it: below folder, at the outputFile's name or, for a later
// attempt, at its own ([jobspec.AttemptName]).
type expected struct {
	folder string
	chunks []*jobspec.Chunk // in spec order
	byID   map[int64]*jobspec.Chunk
	byURL  map[string]*jobspec.Chunk // where the first attempt puts it
}

func expect(spec *jobspec.Spec, folder string) (*expected, error) {
	e := &expected{folder: folder, byID: map[int64]*jobspec.Chunk{}, byURL: map[string]*jobspec.Chunk{}}
	for i := range spec.Chunks {
		c := &spec.Chunks[i]
		if c.OutputFile == "" {
			continue
		}
		if !filepath.IsLocal(filepath.FromSlash(c.OutputFile)) || strings.ContainsRune(c.OutputFile, 0) {
			return nil, fault.With(worker.KindSpec, fmt.Errorf("outputFile %q of chunk %d: %w", c.OutputFile, c.ID, worker.ErrOutsideWorkspace))
		}
		url := store.JoinLocation(folder, path.Clean(c.OutputFile))
		if other, ok := e.byURL[url]; ok {
			return nil, fault.With(worker.KindSpec, fmt.Errorf("chunks %d and %d both write outputFile %q", other.ID, c.ID, c.OutputFile))
		}
		e.chunks = append(e.chunks, c)
		e.byID[c.ID], e.byURL[url] = c, c
	}
	if len(e.chunks) == 0 {
		return nil, fault.With(worker.KindSpec, errors.New("no chunk of the job spec has an outputFile: nothing to merge"))
	}
	return e, nil
}

// chunkAt is the chunk whose worker puts an output at url, nil for none.
func (e *expected) chunkAt(url string) *jobspec.Chunk {
	if c := e.byURL[url]; c != nil {
		return c
	}
	// A later attempt: DIR/NAME.attempt-N.EXT for DIR/NAME.EXT.
	slash := strings.LastIndexByte(url, '/')
	base := url[slash+1:]
	i := strings.LastIndex(base, ".attempt-")
	if i < 0 {
		return nil
	}
	digits := base[i+len(".attempt-"):]
	ext := digits[strings.IndexFunc(digits+".", func(r rune) bool { return r < '0' || r > '9' }):]
	n, err := strconv.Atoi(strings.TrimSuffix(digits, ext))
	if err != nil || n < 2 {
		return nil
	}
	c := e.byURL[url[:slash+1]+base[:i]+ext]
	if c == nil || store.JoinLocation(e.folder, jobspec.AttemptName(path.Clean(c.OutputFile), n)) != url {
		return nil
	}
	return c
}

// A failure is why a chunk, or a child execution whose chunk is not
// known, has no output to merge.
type failure struct {
	chunk int64
	known bool
	name  string // the child execution, when the chunk is not known
	why   string
}

func (f failure) String() string {
	if f.known {
		return "chunk " + strconv.FormatInt(f.chunk, 10) + ": " + f.why
	}
	if f.name != "" {
		return "child execution " + f.name + ": " + f.why
	}
	return "a child execution: " + f.why
}

// fromRequest matches the outputs of a merge payload with the chunks.
// Anything in them that is not the job's fails the merge.
func (e *expected) fromRequest(outs []jobspec.ChunkOutput) ([]fanout.Output, error) {
	found := map[int64]fanout.Output{}
	var wrong []failure
	for _, o := range outs {
		c, ok := e.byID[o.Chunk]
		switch {
		case !ok:
			wrong = append(wrong, failure{chunk: o.Chunk, known: true, why: "the job spec has no such chunk, or none with an outputFile"})
		case e.chunkAt(o.OutputURL) != c:
			wrong = append(wrong, failure{chunk: o.Chunk, known: true,
				why: fmt.Sprintf("outputUrl %s is not where its worker puts its output (%s)", o.OutputURL, store.JoinLocation(e.folder, path.Clean(c.OutputFile)))})
		default:
			found[c.ID] = fanout.Output{Chunk: c.ID, URL: o.OutputURL, File: c.OutputFile, Bytes: o.OutputBytes, SHA256: o.OutputSHA256}
		}
	}
	if len(wrong) > 0 {
		return nil, fault.With(worker.KindOutput, fmt.Errorf("the outputs are not all the job's: %s", listFailures(wrong)))
	}
	return e.complete(found, nil, "outputs")
}

// fromResults matches the children of a Map Run with the chunks: each
// chunk takes the output of a child that succeeded with it. Children
// that failed, or whose output is not a chunk's, only explain the chunks
// that have none.
func (e *expected) fromResults(mr *MapResults) ([]fanout.Output, error) {
	found := map[int64]fanout.Output{}
	var fails []failure
	for _, ch := range mr.Children {
		f := failure{chunk: ch.Chunk, known: ch.HasChunk, name: ch.Name, why: ch.Why}
		a := ch.Answer
		switch {
		case a == nil:
		case a.StatusCode != 200:
			f.why = fmt.Sprintf("its worker answered %d: %s", a.StatusCode, clipText(a.Message, 300))
		case a.ExitCode != nil && *a.ExitCode != 0, a.OutputURL == "", a.OutputBytes == nil || *a.OutputBytes < 0, !isSHA256(a.OutputSHA256):
			f.why = "its worker's answer names no output with its size and SHA-256 (outputUrl, outputBytes, outputSha256)"
		case ch.Status != "SUCCEEDED":
			f.why = "the Map Run lists it as " + ch.Status
		default:
			c := e.chunkAt(a.OutputURL)
			switch {
			case c == nil:
				f.why = fmt.Sprintf("outputUrl %s is not where a worker puts a chunk's output", a.OutputURL)
			case ch.HasChunk && ch.Chunk != c.ID:
				f.why = fmt.Sprintf("outputUrl %s is chunk %d's output", a.OutputURL, c.ID)
			default:
				found[c.ID] = fanout.Output{Chunk: c.ID, URL: a.OutputURL, File: c.OutputFile, Bytes: *a.OutputBytes, SHA256: strings.ToLower(a.OutputSHA256)}
				continue
			}
		}
		fails = append(fails, f)
	}
	return e.complete(found, fails, "Map Run's results")
}

// complete returns found in spec order, or an error naming every chunk
// that has no output, with the failures that explain them.
func (e *expected) complete(found map[int64]fanout.Output, fails []failure, where string) ([]fanout.Output, error) {
	outs := make([]fanout.Output, 0, len(e.chunks))
	var missing []int64
	for _, c := range e.chunks {
		if o, ok := found[c.ID]; ok {
			outs = append(outs, o)
		} else {
			missing = append(missing, c.ID)
		}
	}
	if len(missing) == 0 {
		return outs, nil
	}
	fails = slices.DeleteFunc(fails, func(f failure) bool { _, ok := found[f.chunk]; return f.known && ok })
	msg := fmt.Sprintf("%d of %d chunks have no output to merge (%s)", len(missing), len(e.chunks), chunkList(missing))
	if len(fails) > 0 {
		msg += ": " + listFailures(fails)
	} else {
		msg += ": not in the " + where
	}
	return nil, fault.With(worker.KindOutput, errors.New(msg))
}

// maxListed is how many failures, or runs of chunks, a message names.
const maxListed = 8

// listFailures names the first failures, and how many more there are.
func listFailures(fails []failure) string {
	parts := make([]string, 0, maxListed+1)
	for i, f := range fails {
		if i == maxListed {
			parts = append(parts, fmt.Sprintf("and %d more", len(fails)-i))
			break
		}
		parts = append(parts, f.String())
	}
	return strings.Join(parts, "; ")
}

// chunkList names chunk ids in runs: "chunks 3, 7-9", or "chunk 4".
func chunkList(ids []int64) string {
	ids = slices.Sorted(slices.Values(ids))
	var runs []string
	for i := 0; i < len(ids); {
		j := i
		for j+1 < len(ids) && ids[j+1] == ids[j]+1 {
			j++
		}
		if len(runs) == maxListed {
			runs = append(runs, "…")
			break
		}
		r := strconv.FormatInt(ids[i], 10)
		if j > i {
			r += "-" + strconv.FormatInt(ids[j], 10)
		}
		runs = append(runs, r)
		i = j + 1
	}
	if len(ids) == 1 {
		return "chunk " + runs[0]
	}
	return "chunks " + strings.Join(runs, ", ")
}

// isSHA256 reports whether s is 64 hexadecimal digits.
func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	return strings.Trim(strings.ToLower(s), "0123456789abcdef") == ""
}
