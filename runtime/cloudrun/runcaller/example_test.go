package runcaller_test

import (
	"errors"
	"fmt"

	"github.com/helios-project/helios-scaffold/runtime/cloudrun/runcaller"
)

func ExampleParse() {
	answers := []struct {
		status int
		body   string
	}{
		{200, `{"exitCode":0,"stdout":"rendered\n","stderr":"","durationMs":840}`},
		{500, `{"exitCode":3,"stdout":"","stderr":"no encoder\n","message":"chunk command exited with code 3"}`},
		{200, `{"exitCode":0,"output":"from a Lambda-shaped body\n"}`},
		{500, `{"message":"Chunk with ID 9 not found in job spec"}`},
		{504, `<html><body>upstream request timeout</body></html>`},
	}
	for _, a := range answers {
		r, err := runcaller.Parse(a.status, []byte(a.body))
		if err != nil {
			fmt.Println("malformed:", errors.Is(err, runcaller.ErrMalformed), err)
			continue
		}
		fmt.Printf("ok=%v exit=%d(%v) stdout=%q stderr=%q message=%q\n",
			r.OK(), r.ExitCode, r.HasExitCode, r.Stdout, r.Stderr, r.Message)
	}
	// Output:
	// ok=true exit=0(true) stdout="rendered\n" stderr="" message=""
	// ok=false exit=3(true) stdout="" stderr="no encoder\n" message="chunk command exited with code 3"
	// ok=true exit=0(true) stdout="from a Lambda-shaped body\n" stderr="" message=""
	// ok=false exit=0(false) stdout="" stderr="" message="Chunk with ID 9 not found in job spec"
	// malformed: true malformed worker response: status 504: <html><body>upstream request timeout</body></html>
}
