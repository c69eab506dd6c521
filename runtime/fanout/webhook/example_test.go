package webhook_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/fanout/webhook"
)

func ExampleSign() {
	secret := []byte("It's a Secret to Everybody")
	body := []byte("Hello, World!")

	header := webhook.Sign(secret, body)
	fmt.Println(header)
	fmt.Println(webhook.Verify(secret, body, header))
	fmt.Println(webhook.Verify(secret, []byte("Hello, World?"), header))
	fmt.Println(webhook.Verify([]byte("another secret"), body, header))
	// Output:
	// sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17
	// true
	// false
	// false
}

// A receiver verifies the raw body before it parses it, and drops a
// delivery it has taken already.
func ExampleVerify_receiver() {
	secret := []byte("whsec-example")
	var (
		mu   sync.Mutex
		seen = map[string]bool{}
	)
	receive := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if !webhook.Verify(secret, body, r.Header.Get(webhook.SignatureHeader)) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var p webhook.Payload
		if err := json.Unmarshal(body, &p); err != nil {
			http.Error(w, "bad payload", http.StatusBadRequest)
			return
		}
		mu.Lock()
		again := seen[p.DeliveryID]
		seen[p.DeliveryID] = true
		mu.Unlock()
		if !again {
			fmt.Printf("%s: %s %s (%d/%d chunks)\n", p.DeliveryID, p.Job, p.Event, p.OK+p.Skipped, p.Chunks)
		}
		w.WriteHeader(http.StatusNoContent)
	})

	body := `{"event":"done","job":"intro","chunks":12,"ok":12,"deliveryId":"0f1e2d3c4b5a69788796a5b4c3d2e1f0"}`
	deliver := func(body, signature string) {
		r := httptest.NewRequest(http.MethodPost, "/helios", strings.NewReader(body))
		r.Header.Set(webhook.SignatureHeader, signature)
		w := httptest.NewRecorder()
		receive(w, r)
		fmt.Println(w.Code)
	}
	signature := webhook.Sign(secret, []byte(body))
	deliver(body, signature)
	deliver(body, signature) // a retry of the same delivery
	deliver(strings.Replace(body, `"ok":12`, `"ok":11`, 1), signature)
	// Output:
	// 0f1e2d3c4b5a69788796a5b4c3d2e1f0: intro done (12/12 chunks)
	// 204
	// 204
	// 401
}

// The body of a delivery; Output is left out unless the run is done,
// and Message when it is empty.
func ExamplePayload() {
	started := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	p := webhook.Payload{
		Event: webhook.EventDone, Job: "intro", JobPath: "s3://renders/intro/job.json", Target: "aws",
		Chunks: 12, OK: 10, Skipped: 2, Retries: 1, Hedges: 1, Output: "renders/intro.mp4",
		WallMS: 93412, CostUSD: 0.0412, EstimateUSD: 0.05, State: "renders/.intro.helios-run",
		Time:       started.Add(93412 * time.Millisecond),
		DeliveryID: webhook.DeliveryID("renders/.intro.helios-run", webhook.EventDone, started),
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	enc.Encode(p)
	// Output:
	// {
	//   "event": "done",
	//   "job": "intro",
	//   "jobPath": "s3://renders/intro/job.json",
	//   "target": "aws",
	//   "chunks": 12,
	//   "ok": 10,
	//   "failed": 0,
	//   "skipped": 2,
	//   "notRun": 0,
	//   "retries": 1,
	//   "hedges": 1,
	//   "output": "renders/intro.mp4",
	//   "wallMs": 93412,
	//   "costUsd": 0.0412,
	//   "estimateUsd": 0.05,
	//   "state": "renders/.intro.helios-run",
	//   "time": "2026-03-01T09:31:33.412Z",
	//   "deliveryId": "499d176e4c0934daa148d55a52fc35fc"
	// }
}
