package webhook

import (
	"bytes"
	"cmp"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/helios-project/helios-scaffold/runtime/internal/msg"
)

// The defaults of a Sender.
const (
	DefaultTimeout   = 10 * time.Second // of an attempt, with a nil Client
	DefaultAttempts  = 5
	MaxBackoff       = 30 * time.Second // the longest wait between attempts, Retry-After included
	DefaultUserAgent = "helios-scaffold-webhook"
)

// ErrRejected is wrapped by Send's error when the receiver answered with
// a status that trying again cannot change: a 4xx other than 408, 425 and
// 429, or a redirect.
var ErrRejected = errors.New("rejected")

// Sender delivers a Payload to a receiver. Its zero fields take the
// defaults; a Sender is not changed by Send and may send concurrently.
type Sender struct {
	URL    string // http or https ([Check])
	Secret []byte // the HMAC key; never logged, nor put in an error
	// Client makes the attempts; nil: one with a DefaultTimeout per
	// attempt that follows no redirect.
	Client *http.Client
	// Attempts bounds the attempts of a delivery; 0 or less: DefaultAttempts.
	Attempts int
	// Backoff is the wait after attempt n (1 for the first) before the
	// next; nil: DefaultBackoff.
	Backoff func(attempt int) time.Duration
	// UserAgent is the User-Agent header; empty: DefaultUserAgent.
	UserAgent string

	// sleep waits d or until ctx ends (tests record the waits); nil: a timer.
	sleep func(ctx context.Context, d time.Duration) error
}

// DefaultBackoff is a full-jitter exponential backoff: after attempt n it
// waits a random time between 0 and min(MaxBackoff, 1 s·2^(n-1)).
func DefaultBackoff(attempt int) time.Duration {
	ceil := min(MaxBackoff, time.Second<<min(max(attempt-1, 0), 5))
	return rand.N(ceil + 1)
}

// Send POSTs p as JSON to s.URL, signed (SignatureHeader), with its
// DeliveryHeader and EventHeader, and returns nil on a 2xx answer. It
// fills an empty p.DeliveryID with a random id and a zero p.Time with
// the time now; every attempt carries the same body bytes and headers.
//
// It tries again after a network error (a timeout included) and after a
// 408, 425, 429 or 5xx, waiting s.Backoff, or as long as the answer's
// Retry-After asks in seconds when that is longer (MaxBackoff at most),
// until s.Attempts are made or ctx ends. Any other answer ends it, with
// an error that wraps ErrRejected. Its errors name the URL without its
// userinfo, query and fragment, and the last status or network error.
func (s *Sender) Send(ctx context.Context, p Payload) error {
	u, body, err := s.prepare(&p)
	if err != nil {
		return err
	}
	where, n := redact(u), s.attempts()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("webhook %s: not sent: %w", where, err)
	}
	for i := 1; ; i++ {
		retry, after, err := s.attempt(ctx, u, body, &p)
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return stopped(where, i, ctx.Err(), err)
		case !retry:
			return fmt.Errorf("webhook %s: %w", where, err)
		case i >= n:
			return fmt.Errorf("webhook %s: gave up after %s: %w", where, count(i), err)
		}
		if werr := s.wait(ctx, max(s.backoff(i), after)); werr != nil {
			return stopped(where, i, werr, err)
		}
	}
}

// prepare checks s and p, fills p's DeliveryID and Time, and encodes it.
func (s *Sender) prepare(p *Payload) (*url.URL, []byte, error) {
	u, err := parseURL(s.URL)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case len(s.Secret) == 0:
		return nil, nil, errors.New("webhook secret is empty")
	case strings.ContainsFunc(s.UserAgent, unicode.IsControl):
		return nil, nil, fmt.Errorf("webhook user agent %s: has a control character", msg.Key(s.UserAgent))
	}
	if err := checkEvent(p.Event); err != nil {
		return nil, nil, err
	}
	if p.DeliveryID == "" {
		p.DeliveryID = randomID()
	} else if strings.ContainsFunc(p.DeliveryID, unicode.IsControl) {
		return nil, nil, fmt.Errorf("webhook delivery id %s: has a control character", msg.Key(p.DeliveryID))
	}
	if p.Time.IsZero() {
		p.Time = time.Now()
	}
	body, err := json.Marshal(p)
	if err != nil {
		return nil, nil, fmt.Errorf("webhook payload: %w", err)
	}
	return u, body, nil
}

// randomID is 32 random hex digits, as long as a DeliveryID.
func randomID() string {
	var b [16]byte
	crand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// attempt POSTs body once. It returns nil on a 2xx; else an error without
// the URL, whether to try again, and how long the answer's Retry-After
// asks to wait.
func (s *Sender) attempt(ctx context.Context, u *url.URL, body []byte, p *Payload) (retry bool, after time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return false, 0, unwrapURL(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", cmp.Or(s.UserAgent, DefaultUserAgent))
	req.Header.Set(SignatureHeader, Sign(s.Secret, body))
	req.Header.Set(DeliveryHeader, p.DeliveryID)
	req.Header.Set(EventHeader, p.Event)
	resp, err := s.client().Do(req)
	if err != nil {
		return true, 0, unwrapURL(err)
	}
	defer drain(resp.Body)
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return false, 0, nil
	}
	err = statusError(resp)
	if !retryable(resp.StatusCode) {
		return false, 0, fmt.Errorf("%w: %w", ErrRejected, err)
	}
	return true, retryAfter(resp.Header.Get("Retry-After")), err
}

// retryable reports whether an answer with status code may change if
// asked again.
func retryable(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooEarly, http.StatusTooManyRequests:
		return true
	}
	return code >= 500 && code < 600
}

// retryAfter is a Retry-After header's wait in seconds, MaxBackoff at
// most; 0 for an empty, negative or HTTP-date value.
func retryAfter(v string) time.Duration {
	secs, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || secs <= 0 {
		return 0
	}
	return time.Duration(min(secs, int64(MaxBackoff/time.Second))) * time.Second
}

// statusError describes an answer that is not a 2xx: its status and the
// start of its body's first line, quoted.
func statusError(resp *http.Response) error {
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	line, _, _ := strings.Cut(strings.TrimSpace(string(head)), "\n")
	if line = strings.TrimSpace(line); line == "" {
		return fmt.Errorf("status %s", resp.Status)
	}
	return fmt.Errorf("status %s: %s", resp.Status, msg.Key(line))
}

// drain reads what is left of a body, up to 64 KiB, so that its
// connection can be used again, and closes it.
func drain(body io.ReadCloser) {
	io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	body.Close()
}

// unwrapURL drops the *url.Error around a client's error: it quotes the
// URL, query and all.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func (s *Sender) client() *http.Client {
	if s.Client != nil {
		return s.Client
	}
	return &http.Client{
		Timeout: DefaultTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

func (s *Sender) attempts() int {
	if s.Attempts <= 0 {
		return DefaultAttempts
	}
	return s.Attempts
}

func (s *Sender) backoff(attempt int) time.Duration {
	if s.Backoff == nil {
		return DefaultBackoff(attempt)
	}
	return max(s.Backoff(attempt), 0)
}

// wait waits d, or until ctx ends.
func (s *Sender) wait(ctx context.Context, d time.Duration) error {
	if s.sleep != nil {
		return s.sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// stopped is Send's error when ctx ended (ctxErr) after n attempts, the
// last of which failed with last.
func stopped(where string, n int, ctxErr, last error) error {
	if errors.Is(last, ctxErr) {
		return fmt.Errorf("webhook %s: stopped after %s: %w", where, count(n), last)
	}
	return fmt.Errorf("webhook %s: stopped after %s: %w; last: %w", where, count(n), ctxErr, last)
}

func count(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return strconv.Itoa(n) + " attempts"
}
