package awslambda

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"
)

// With "failAsError": true, a chunk or merge that failed is raised as a
// function error of its type, with the answer's body as its message, so
// that a Step Functions task fails on it (and Retry and Redrive run it
// again); what succeeded, and a payload without the flag, are answered;
// a flag that is not a boolean is the contract's 400, answered.
func TestInvokeFailAsError(t *testing.T) {
	h, _ := newTestHandler(t, time.Second)
	job := writeJob(t, "echo ok", "sh -c 'echo broken >&2; exit 3'")
	payload := func(extra string, chunk int) []byte {
		return []byte(`{"jobPath": ` + quoteJSON(job) + `, "chunkIndex": ` + string(rune('0'+chunk)) + extra + `}`)
	}
	for _, tc := range []struct {
		name    string
		payload []byte
		raised  string // the error type, "" when answered
		status  int    // of the answer, or of the raised body
		message string
	}{
		{"failed, raised", payload(`, "failAsError": true`, 1), FailedChunk, 500, "chunk command exited with code 3"},
		{"ok, answered", payload(`, "failAsError": true`, 0), "", 200, ""},
		{"failed, no flag", payload(``, 1), "", 500, "chunk command exited with code 3"},
		{"failed, flag false", payload(`, "failAsError": false`, 1), "", 500, "chunk command exited with code 3"},
		{"not a boolean", payload(`, "failAsError": "yes"`, 1), "", 400, "Invalid payload: failAsError must be true or false"},
		{"merge failed, raised", []byte(`{"jobPath": ` + quoteJSON(job) + `, "action": "merge", "outputs": [], "failAsError": true}`), FailedMerge, 500, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wire, err := h.Invoke(context.Background(), tc.payload)
			var body Body
			if tc.raised != "" {
				var ie messages.InvokeResponse_Error
				if !errors.As(err, &ie) || ie.Type != tc.raised || wire != nil {
					t.Fatalf("Invoke = %s, %v; want a %s error", wire, err, tc.raised)
				}
				if json.Unmarshal([]byte(ie.Message), &body) != nil || !strings.Contains(body.Message, tc.message) {
					t.Errorf("the error's message %s: want the answer's body, saying %q", ie.Message, tc.message)
				}
				return
			}
			status, b := decodeWire(t, wire)
			if err != nil || status != tc.status || !strings.Contains(b.Message, tc.message) {
				t.Errorf("Invoke = %d %+v, %v; want %d answered, saying %q", status, b, err, tc.status, tc.message)
			}
		})
	}
}

func quoteJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
