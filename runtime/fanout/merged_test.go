package fanout_test

import (
	"path/filepath"
	"testing"

	"github.com/helios-project/helios-scaffold/runtime/fanout"
	"github.com/helios-project/helios-scaffold/runtime/jobspec"
)

// MergedName is the one video file that the mergeCommand names and no
// chunk does, as run checks it and the worker's merge uploads it.
func TestMergedName(t *testing.T) {
	chunks := []jobspec.Chunk{
		{ID: 0, OutputFile: "out_part_0.mp4", Command: "helios render c.html -o out_part_0.mp4 --start-frame 0 --frame-count 30"},
		{ID: 1, OutputFile: "out_part_1.mp4", Command: "helios render c.html -o out_part_1.mp4 --start-frame 30 --frame-count 30 --intro intro.mp4"},
	}
	for _, tc := range []struct{ merge, want string }{
		{"helios merge out.mp4 out_part_0.mp4 out_part_1.mp4", "out.mp4"},
		{"ffmpeg -f concat -safe 0 -i chunks.txt -c copy final/OUT.MOV", "final/OUT.MOV"},
		{`sh -c 'ls out_part_* > list.txt && ffmpeg -f concat -i list.txt -c copy "merged.webm"'`, "merged.webm"},
		{"helios merge out.mp4 intro.mp4 out_part_0.mp4", "out.mp4"}, // intro.mp4 is a chunk's input
		{"helios merge a.mp4 b.mp4", ""},                             // two
		{"helios merge out.txt out_part_0.mp4", ""},                  // none
		{"helios merge ../out.mp4 out_part_0.mp4", ""},               // outside the folder
		{"helios merge /tmp/out.mp4 out_part_0.mp4", ""},
		{"helios merge 'out.mp4", ""}, // does not split
		{"", ""},
	} {
		job := &fanout.Job{Spec: &jobspec.Spec{Chunks: chunks, MergeCommand: tc.merge}}
		if got := job.MergedName(); got != tc.want {
			t.Errorf("MergedName of %q = %q, want %q", tc.merge, got, tc.want)
		}
		want := ""
		if tc.want != "" {
			want = filepath.Join("/w", filepath.FromSlash(tc.want))
		}
		if got := job.MergedFile("/w"); got != want {
			t.Errorf("MergedFile of %q = %q, want %q", tc.merge, got, want)
		}
	}
}
