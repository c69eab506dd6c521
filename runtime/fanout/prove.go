package fanout

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/helios-project/helios-scaffold/runtime/store"
)

// Outputs are the outputs of job's chunks that state records as done:
// where each chunk's worker put its outputFile, with the size and
// SHA-256 it gave. Chunks without an outputFile have none.
func Outputs(job *Job, state *State) []Output {
	records := state.Records()
	var outs []Output
	for _, c := range job.Spec.Chunks {
		r, ok := records[c.ID]
		if !ok || c.OutputFile == "" {
			continue
		}
		outs = append(outs, Output{Chunk: c.ID, URL: r.OutputURL, File: c.OutputFile, Bytes: r.Bytes, SHA256: r.SHA256})
	}
	return outs
}

// Expected is every chunk's output, done or not, at folder/outputFile
// when folder is set (where a Cloud Run job's tasks put them) and with
// no URL otherwise; their sizes are unknown (-1).
func Expected(job *Job, folder string) []Output {
	var outs []Output
	for _, c := range job.Spec.Chunks {
		if c.OutputFile == "" {
			continue
		}
		o := Output{Chunk: c.ID, File: c.OutputFile, Bytes: -1}
		if folder != "" {
			o.URL = store.JoinLocation(folder, c.OutputFile)
		}
		outs = append(outs, o)
	}
	return outs
}

// ProveLocal checks outs, outputs written into dir by local chunks:
// each is a regular file of the size and SHA-256 its worker recorded. It
// returns those that are not, and why.
func ProveLocal(ctx context.Context, outs []Output, dir string) ([]BadOutput, error) {
	var bad []BadOutput
	for _, o := range outs {
		if err := ctx.Err(); err != nil {
			return bad, err
		}
		if why := proveFile(o, filepath.Join(dir, filepath.FromSlash(o.File))); why != "" {
			bad = append(bad, BadOutput{Output: o, Why: why})
		}
	}
	return bad, nil
}

// proveFile says why the file at name is not o as its worker wrote it;
// "" when it is.
func proveFile(o Output, name string) string {
	info, err := os.Lstat(name)
	switch {
	case os.IsNotExist(err):
		return name + " is not there"
	case err != nil:
		return err.Error()
	case !info.Mode().IsRegular():
		return fmt.Sprintf("%s is a %s", name, fileKind(info.Mode()))
	case info.Size() != o.Bytes:
		return fmt.Sprintf("%s is %d bytes; the chunk wrote %d", name, info.Size(), o.Bytes)
	case o.SHA256 == "":
		return fmt.Sprintf("the state recorded no SHA-256 for %s, so it cannot be proven", name)
	}
	sum, _, err := hashFile(name)
	switch {
	case err != nil:
		return err.Error()
	case sum != o.SHA256:
		return fmt.Sprintf("%s changed since the chunk wrote it (SHA-256 %s, was %s)", name, sum, o.SHA256)
	}
	return ""
}

// ProveListed checks outs against their buckets' listings, without
// downloading: each is there, of the size its worker recorded. It
// returns those that are not, and why. [Collect] proves the bytes.
func ProveListed(ctx context.Context, b Bucket, outs []Output) ([]BadOutput, error) {
	listed, err := listFolders(ctx, b, outs)
	if err != nil {
		return nil, err
	}
	missing, bad, _ := sortListed(outs, listed)
	for _, m := range missing {
		bad = append(bad, BadOutput{Output: m, Why: m.URL + " is not there", Missing: true})
	}
	return bad, nil
}

// sortListed sorts outs by what the listing says of them: missing, of
// another size than their worker put, and present.
func sortListed(outs []Output, listed map[string]store.Object) (missing []Output, bad []BadOutput, present []Output) {
	for _, o := range outs {
		obj, ok := listed[o.URL]
		switch {
		case !ok:
			missing = append(missing, o)
		case o.Bytes >= 0 && obj.Size != o.Bytes:
			bad = append(bad, BadOutput{Output: o, Why: fmt.Sprintf("%s is %d bytes; its worker put %d: it was replaced since", o.URL, obj.Size, o.Bytes)})
		default:
			present = append(present, o)
		}
	}
	return missing, bad, present
}
