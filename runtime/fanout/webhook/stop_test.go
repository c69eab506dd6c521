package webhook

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/helios-project/helios-scaffold/internal/testdeadline"
)

// countingTransport counts the requests it makes.
type countingTransport struct {
	n    atomic.Int32
	next http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

func TestSendRetriesTimeouts(t *testing.T) {
	release := make(chan struct{})
	full, shown := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // never answers in time
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(func() { close(release) }) // before the server's Close
	tr := &countingTransport{next: http.DefaultTransport}
	s := &Sender{
		URL: full, Secret: testSecret, Attempts: 3,
		Client:  &http.Client{Timeout: 20 * time.Millisecond, Transport: tr},
		Backoff: func(int) time.Duration { return time.Millisecond },
	}
	err := s.Send(testdeadline.Context(t), testPayload())
	checkSecretsHidden(t, err)
	if err == nil || !strings.Contains(err.Error(), "webhook "+shown+": gave up after 3 attempts: ") ||
		!errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send = %v, want a timeout after 3 attempts", err)
	}
	if n := tr.n.Load(); n != 3 {
		t.Errorf("%d attempts, want 3", n)
	}
}

func TestSendStopsWaitingWhenCanceled(t *testing.T) {
	rc := &receiver{answers: []answer{{status: 503}}}
	full, shown := serve(t, rc)
	waiting := make(chan struct{}, 1)
	s := &Sender{
		URL: full, Secret: testSecret,
		Backoff: func(int) time.Duration {
			waiting <- struct{}{}
			return time.Hour
		},
	}
	ctx, cancel := context.WithCancel(testdeadline.Context(t))
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- s.Send(ctx, testPayload()) }()
	guard := time.NewTimer(testdeadline.Remaining(t))
	defer guard.Stop()
	select {
	case <-waiting:
		cancel()
	case err := <-errc:
		t.Fatalf("Send returned before its backoff: %v", err)
	case <-guard.C:
		t.Fatal("Send never waited after the first attempt")
	}
	select {
	case err := <-errc:
		want := "webhook " + shown + ": stopped after 1 attempt: context canceled; last: status 503 Service Unavailable"
		if err == nil || err.Error() != want || !errors.Is(err, context.Canceled) {
			t.Errorf("Send = %v, want %s", err, want)
		}
	case <-guard.C:
		t.Fatal("Send still waits an hour after its context ended")
	}
	if n := len(rc.deliveries()); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}
}

func TestSendCanceledBeforehand(t *testing.T) {
	rc := &receiver{answers: []answer{{status: 200}}}
	full, _ := serve(t, rc)
	ctx, cancel := context.WithCancel(testdeadline.Context(t))
	cancel()
	err := (&Sender{URL: full, Secret: testSecret}).Send(ctx, testPayload())
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), ": not sent: context canceled") {
		t.Errorf("Send = %v, want it stopped", err)
	}
	if n := len(rc.deliveries()); n != 0 {
		t.Errorf("%d deliveries, want 0", n)
	}
}

func TestSendRefusesBadInput(t *testing.T) {
	rc := &receiver{answers: []answer{{status: 200}}}
	full, _ := serve(t, rc)
	good := Sender{URL: full, Secret: testSecret}
	for _, tc := range []struct {
		name   string
		change func(*Sender, *Payload)
		want   string
	}{
		{"ftp", func(s *Sender, _ *Payload) { s.URL = "ftp://x/hook?token=qtoken" },
			"webhook URL ftp://x/hook: want http or https"},
		{"no secret", func(s *Sender, _ *Payload) { s.Secret = nil }, "webhook secret is empty"},
		{"no event", func(_ *Sender, p *Payload) { p.Event = "" },
			`webhook event "": want done, failed, budget or interrupted`},
		{"unknown event", func(_ *Sender, p *Payload) { p.Event = "Done" },
			`webhook event "Done": want done, failed, budget or interrupted`},
		{"user agent", func(s *Sender, _ *Payload) { s.UserAgent = "x\r\nX-Evil: 1" },
			`webhook user agent "x\r\nX-Evil: 1": has a control character`},
		{"delivery id", func(_ *Sender, p *Payload) { p.DeliveryID = "a\nb" },
			`webhook delivery id "a\nb": has a control character`},
		{"NaN", func(_ *Sender, p *Payload) { p.CostUSD = math.NaN() },
			"webhook payload: json: unsupported value: NaN"},
	} {
		s, p := good, testPayload()
		tc.change(&s, &p)
		err := s.Send(testdeadline.Context(t), p)
		checkSecretsHidden(t, err)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: Send = %v, want %s", tc.name, err, tc.want)
		}
	}
	if n := len(rc.deliveries()); n != 0 {
		t.Errorf("%d deliveries, want 0", n)
	}
}

func TestDefaultBackoff(t *testing.T) {
	for _, tc := range []struct {
		attempt int
		ceil    time.Duration
	}{
		{0, time.Second}, {1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second},
		{5, 16 * time.Second}, {6, MaxBackoff}, {64, MaxBackoff}, {1 << 30, MaxBackoff},
	} {
		for range 100 {
			if d := DefaultBackoff(tc.attempt); d < 0 || d > tc.ceil {
				t.Fatalf("DefaultBackoff(%d) = %v, want 0 to %v", tc.attempt, d, tc.ceil)
			}
		}
	}
}
