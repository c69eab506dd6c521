package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/testdeadline"
)

var testSecret = []byte("whsec-test-secret")

// answer is what the receiver answers to one attempt.
type answer struct {
	status     int
	retryAfter string
	body       string
	location   string
}

// delivery is what the receiver got in one attempt.
type delivery struct {
	body                   []byte
	id, event, contentType string
	userAgent              string
	signed                 bool
}

// receiver is a webhook receiver that verifies each attempt with Verify
// (answering 401 when it does not verify) and then gives its answers in
// turn, the last one again and again.
type receiver struct {
	answers []answer
	mu      sync.Mutex
	got     []delivery
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	d := delivery{
		body: body, id: r.Header.Get(DeliveryHeader), event: r.Header.Get(EventHeader),
		contentType: r.Header.Get("Content-Type"), userAgent: r.Header.Get("User-Agent"),
		signed: Verify(testSecret, body, r.Header.Get(SignatureHeader)),
	}
	rc.mu.Lock()
	rc.got = append(rc.got, d)
	a := rc.answers[min(len(rc.got), len(rc.answers))-1]
	rc.mu.Unlock()
	if !d.signed {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if a.retryAfter != "" {
		w.Header().Set("Retry-After", a.retryAfter)
	}
	if a.location != "" {
		w.Header().Set("Location", a.location)
	}
	w.WriteHeader(a.status)
	io.WriteString(w, a.body)
}

func (rc *receiver) deliveries() []delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]delivery(nil), rc.got...)
}

// serve starts h on loopback and returns its URL with userinfo and a
// query token, which errors must not show, and the URL they may show.
func serve(t *testing.T, h http.Handler) (full, shown string) {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL + "/hook?token=qtoken")
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword("alice", "upass")
	return u.String(), srv.URL + "/hook"
}

// checkSecretsHidden fails t if err's text holds a secret.
func checkSecretsHidden(t *testing.T, err error) {
	t.Helper()
	if err != nil && containsAny(err.Error(), string(testSecret), "qtoken", "upass", "alice") {
		t.Errorf("error %q holds a secret", err)
	}
}

func testPayload() Payload {
	started := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	return Payload{
		Event: EventDone, Job: "intro", JobPath: "s3://renders/intro/job.json", Target: "aws",
		Chunks: 12, OK: 12, Output: "/renders/intro.mp4", WallMS: 93_000,
		CostUSD: 0.0412, EstimateUSD: 0.05, State: "/renders/.intro.helios-run",
		Time:       started.Add(93 * time.Second),
		DeliveryID: DeliveryID("/renders/.intro.helios-run", EventDone, started),
	}
}

func TestSend(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		name         string
		answers      []answer
		attempts     int
		wantAttempts int
		wantWaits    []time.Duration
		wantErr      string // in the error; "" for none
		rejected     bool   // the error wraps ErrRejected
	}{
		{name: "503 then accepted", answers: []answer{{status: 503}, {status: 200}},
			wantAttempts: 2, wantWaits: []time.Duration{ms}},
		{name: "429 with Retry-After", answers: []answer{{status: 429, retryAfter: "7"}, {status: 204}},
			wantAttempts: 2, wantWaits: []time.Duration{7 * time.Second}},
		{name: "Retry-After over the cap", answers: []answer{{status: 503, retryAfter: "3600"}, {status: 202}},
			wantAttempts: 2, wantWaits: []time.Duration{MaxBackoff}},
		{name: "Retry-After shorter than the backoff", answers: []answer{{status: 503, retryAfter: "0"}, {status: 200}},
			wantAttempts: 2, wantWaits: []time.Duration{ms}},
		{name: "Retry-After date ignored",
			answers:      []answer{{status: 503, retryAfter: "Wed, 21 Oct 2026 07:28:00 GMT"}, {status: 200}},
			wantAttempts: 2, wantWaits: []time.Duration{ms}},
		{name: "408 and 425 retried", answers: []answer{{status: 408}, {status: 425}, {status: 200}},
			wantAttempts: 3, wantWaits: []time.Duration{ms, 2 * ms}},
		{name: "400 not retried", answers: []answer{{status: 400, body: "bad payload\nsecond line"}},
			wantAttempts: 1, wantErr: `: rejected: status 400 Bad Request: "bad payload"`, rejected: true},
		{name: "404 not retried", answers: []answer{{status: 404}},
			wantAttempts: 1, wantErr: ": rejected: status 404 Not Found", rejected: true},
		{name: "redirect not followed", answers: []answer{{status: 302, location: "/elsewhere"}},
			wantAttempts: 1, wantErr: ": rejected: status 302 Found", rejected: true},
		{name: "5xx until the attempts run out", answers: []answer{{status: 500, body: "boom"}},
			wantAttempts: 5, wantWaits: []time.Duration{ms, 2 * ms, 3 * ms, 4 * ms},
			wantErr: `: gave up after 5 attempts: status 500 Internal Server Error: "boom"`},
		{name: "two attempts", answers: []answer{{status: 502}}, attempts: 2,
			wantAttempts: 2, wantWaits: []time.Duration{ms},
			wantErr: ": gave up after 2 attempts: status 502 Bad Gateway"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := &receiver{answers: tc.answers}
			full, shown := serve(t, rc)
			var waits []time.Duration
			s := &Sender{
				URL: full, Secret: testSecret, Attempts: tc.attempts,
				Backoff: func(n int) time.Duration { return time.Duration(n) * ms },
				sleep: func(ctx context.Context, d time.Duration) error {
					waits = append(waits, d)
					return ctx.Err()
				},
			}
			p := testPayload()
			err := s.Send(testdeadline.Context(t), p)
			checkSecretsHidden(t, err)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Send: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), "webhook "+shown+tc.wantErr)):
				t.Fatalf("Send = %v, want an error with %q", err, "webhook "+shown+tc.wantErr)
			case errors.Is(err, ErrRejected) != tc.rejected:
				t.Errorf("Send = %v, wraps ErrRejected: %v, want %v", err, !tc.rejected, tc.rejected)
			}
			if !equalDurations(waits, tc.wantWaits) {
				t.Errorf("waits %v, want %v", waits, tc.wantWaits)
			}
			checkDeliveries(t, rc.deliveries(), tc.wantAttempts, p.DeliveryID)
		})
	}
}

// checkDeliveries checks that there were n attempts, every one signed,
// with the same body and the delivery id want.
func checkDeliveries(t *testing.T, got []delivery, n int, want string) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("%d attempts, want %d", len(got), n)
	}
	var p Payload
	if err := json.Unmarshal(got[0].body, &p); err != nil {
		t.Fatalf("body %s: %v", got[0].body, err)
	}
	if p.DeliveryID != want {
		t.Errorf("body's deliveryId %q, want %q", p.DeliveryID, want)
	}
	for i, d := range got {
		switch {
		case !d.signed:
			t.Errorf("attempt %d: signature does not verify", i+1)
		case string(d.body) != string(got[0].body):
			t.Errorf("attempt %d: body %s, first attempt's %s", i+1, d.body, got[0].body)
		case d.id != want || d.event != p.Event:
			t.Errorf("attempt %d: delivery %q event %q, want %q and %q", i+1, d.id, d.event, want, p.Event)
		case d.contentType != "application/json" || d.userAgent != DefaultUserAgent:
			t.Errorf("attempt %d: Content-Type %q, User-Agent %q", i+1, d.contentType, d.userAgent)
		}
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSendFillsDeliveryIDAndTime(t *testing.T) {
	rc := &receiver{answers: []answer{{status: 503}, {status: 200}}}
	full, _ := serve(t, rc)
	p := testPayload()
	p.DeliveryID, p.Time = "", time.Time{}
	s := &Sender{URL: full, Secret: testSecret, Backoff: func(int) time.Duration { return 0 }}
	if err := s.Send(testdeadline.Context(t), p); err != nil {
		t.Fatal(err)
	}
	got := rc.deliveries()
	if id := got[0].id; len(id) != 32 || !lowerHex(id) {
		t.Fatalf("delivery id %q, want 32 lowercase hex digits", id)
	}
	checkDeliveries(t, got, 2, got[0].id)
	var sent Payload
	if err := json.Unmarshal(got[0].body, &sent); err != nil || sent.Time.IsZero() {
		t.Errorf("sent time %v (%v), want the time of sending", sent.Time, err)
	}
}
