package jobspec_test

import (
	"errors"
	"fmt"

	"github.com/helios-project/helios-scaffold/runtime/jobspec"
)

func ExampleSplitCommand() {
	args, err := jobspec.SplitCommand(`npx helios render --start-frame 0 -o 'chunk 0.mp4' $NOT_EXPANDED`)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, a := range args {
		fmt.Printf("%q\n", a)
	}

	_, err = jobspec.SplitCommand(`echo 'unterminated`)
	fmt.Println(err)
	// Output:
	// "npx"
	// "helios"
	// "render"
	// "--start-frame"
	// "0"
	// "-o"
	// "chunk 0.mp4"
	// "$NOT_EXPANDED"
	// unterminated quote
}

func ExampleDecodeRequest() {
	req, err := jobspec.DecodeRequest([]byte(`{"jobPath": "s3://renders/job-42.json", "chunkIndex": 3, "extra": true}`))
	fmt.Printf("%+v %v\n", req, err)

	for _, payload := range []string{`[1]`, `{"jobPath": "x", "chunkIndex": "3"}`, `nope`} {
		_, err := jobspec.DecodeRequest([]byte(payload))
		switch {
		case errors.Is(err, jobspec.ErrPayloadNotObject):
			fmt.Println("400 Invalid payload: must be an object")
		case errors.Is(err, jobspec.ErrPayloadFields):
			fmt.Println("400 Invalid payload: missing jobPath or chunkIndex")
		case errors.Is(err, jobspec.ErrPayloadSyntax):
			fmt.Println("400 Invalid JSON payload")
		}
	}
	// Output:
	// {JobPath:s3://renders/job-42.json ChunkIndex:3 Attempt:0 FailAsError:false} <nil>
	// 400 Invalid payload: must be an object
	// 400 Invalid payload: missing jobPath or chunkIndex
	// 400 Invalid JSON payload
}

func ExampleParse() {
	spec, err := jobspec.Parse([]byte(`{
		"metadata": {"totalFrames": 300, "fps": 30},
		"chunks": [
			{"id": 0, "startFrame": 0, "frameCount": 150, "outputFile": "out_part_0.mp4",
			 "command": "helios render composition.html -o out_part_0.mp4 --start-frame 0 --frame-count 150"},
			{"id": 1, "startFrame": 150, "frameCount": 150, "outputFile": "out_part_1.mp4",
			 "command": "helios render composition.html -o out_part_1.mp4 --start-frame 150 --frame-count 150"}
		],
		"mergeCommand": "helios merge out.mp4 out_part_0.mp4 out_part_1.mp4"
	}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	c, err := spec.Chunk(1)
	fmt.Println(c.OutputFile, c.StartFrame, err)

	_, err = jobspec.Parse([]byte(`{"chunks": [], "Chunks": []}`))
	fmt.Println(errors.Is(err, jobspec.ErrAmbiguousJSON))
	// Output:
	// out_part_1.mp4 150 <nil>
	// true
}
