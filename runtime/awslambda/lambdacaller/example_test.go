package lambdacaller_test

import (
	"fmt"

	"github.com/helios-project/helios-scaffold/runtime/awslambda/lambdacaller"
)

// Parse reads a worker's answer, whose body is a string holding JSON (as
// the Lambda handler sends it) or an object; any status but 200 is a
// failure whose reason is the body's message.
func ExampleParse() {
	for _, payload := range []string{
		`{"statusCode":200,"body":"{\"exitCode\":0,\"output\":\"rendered 150 frames\\n\",\"stderr\":\"\"}"}`,
		`{"statusCode":500,"body":{"exitCode":1,"stdout":"","stderr":"ffmpeg: no such file\n","message":"chunk command exited with code 1"}}`,
		`{"statusCode":500,"body":"{\"message\":\"Chunk with ID 9 not found in job spec\"}"}`,
	} {
		r, err := lambdacaller.Parse([]byte(payload))
		if err != nil {
			panic(err)
		}
		if r.OK() {
			fmt.Printf("ok: exit %d, stdout %q\n", r.ExitCode, r.Stdout)
			continue
		}
		fmt.Printf("failed (%d): %s", r.StatusCode, r.Message)
		if r.HasExitCode {
			fmt.Printf(", exit %d, stderr %q", r.ExitCode, r.Stderr)
		}
		fmt.Println()
	}
	_, err := lambdacaller.Parse([]byte(`{"errorMessage":"boom"}`))
	fmt.Println(err != nil)
	// Output:
	// ok: exit 0, stdout "rendered 150 frames\n"
	// failed (500): chunk command exited with code 1, exit 1, stderr "ffmpeg: no such file\n"
	// failed (500): Chunk with ID 9 not found in job spec
	// true
}
