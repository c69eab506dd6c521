package jobspec_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
)

// bigSpec is what helios render --emit-job writes for a long video:
// 10,000 chunks.
func bigSpec(b *testing.B) []byte {
	spec := jobspec.Spec{Metadata: jobspec.Metadata{TotalFrames: 1_500_000, FPS: 30, Width: 1920, Height: 1080}}
	for i := range 10_000 {
		out := fmt.Sprintf("out_part_%d.mp4", i)
		spec.Chunks = append(spec.Chunks, jobspec.Chunk{ID: int64(i), StartFrame: int64(i) * 150, FrameCount: 150, OutputFile: out,
			Command: fmt.Sprintf("helios render composition.html -o %s --start-frame %d --frame-count 150", out, i*150)})
	}
	data, err := json.Marshal(spec)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkParseSpec parses a spec of 10,000 chunks, as every invocation
// does. The baselines: BenchmarkUnmarshalSpec is encoding/json alone, and
// BenchmarkParseSpecLax what Parse did before it refused ambiguous
// specs (a probe of the chunks array, then the decoding).
func BenchmarkParseSpec(b *testing.B) {
	data := bigSpec(b)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := jobspec.Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshalSpec(b *testing.B) {
	data := bigSpec(b)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		var s jobspec.Spec
		if err := json.Unmarshal(data, &s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseSpecLax(b *testing.B) {
	data := bigSpec(b)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		var probe struct {
			Chunks json.RawMessage `json:"chunks"`
		}
		var s jobspec.Spec
		if json.Unmarshal(data, &probe) != nil || json.Unmarshal(data, &s) != nil {
			b.Fatal("decoding")
		}
	}
}
