package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/helios-project/helios-scaffold/runtime/internal/msg"
)

// The headers of a delivery.
const (
	// SignatureHeader carries "sha256=" and the lowercase hex of
	// HMAC-SHA256(secret, body) ([Sign]).
	SignatureHeader = "X-Helios-Signature"
	// DeliveryHeader carries a stable id per delivery, the same on every
	// attempt of it; the body's deliveryId holds it too, under the
	// signature.
	DeliveryHeader = "X-Helios-Delivery"
	// EventHeader carries the outcome, the body's event.
	EventHeader = "X-Helios-Event"
)

// The outcomes of a render, a Payload's Event.
const (
	EventDone        = "done"        // every chunk rendered and the output merged
	EventFailed      = "failed"      // a chunk or the merge failed for good
	EventBudget      = "budget"      // the run stopped at its cost budget
	EventInterrupted = "interrupted" // the run was interrupted (a signal)
)

// Payload is the JSON body of a delivery, sent once when a render ends.
type Payload struct {
	Event       string    `json:"event"`             // the outcome: EventDone, EventFailed, EventBudget or EventInterrupted
	Job         string    `json:"job"`               // the job's name
	JobPath     string    `json:"jobPath"`           // the job spec's location
	Target      string    `json:"target"`            // where the chunks ran: local, aws or cloudrun
	Chunks      int       `json:"chunks"`            // the chunks of the job
	OK          int       `json:"ok"`                // chunks rendered in this run
	Failed      int       `json:"failed"`            // chunks that failed for good
	Skipped     int       `json:"skipped"`           // chunks a previous run had rendered
	NotRun      int       `json:"notRun"`            // chunks the run did not get to
	Retries     int       `json:"retries"`           // calls tried again
	Hedges      int       `json:"hedges"`            // duplicate calls started for slow chunks
	Output      string    `json:"output,omitempty"`  // the merged video's path, when done
	WallMS      int64     `json:"wallMs"`            // the run's wall time in milliseconds
	CostUSD     float64   `json:"costUsd"`           // what the run cost, as estimated from what it used
	EstimateUSD float64   `json:"estimateUsd"`       // what the whole job is estimated to cost: spent, and the rest at the mean cost of a finished chunk
	Message     string    `json:"message,omitempty"` // why it failed or stopped
	State       string    `json:"state"`             // the state file
	Time        time.Time `json:"time"`              // when the render ended
	DeliveryID  string    `json:"deliveryId"`        // the delivery's id, as in DeliveryHeader
}

// prefix starts a signature header value.
const prefix = "sha256="

// Sign returns the SignatureHeader value for body: "sha256=" followed by
// the lowercase hex of HMAC-SHA256(secret, body).
func Sign(secret, body []byte) string {
	return prefix + hex.EncodeToString(mac(secret, body))
}

// Verify reports whether header, a SignatureHeader value, signs body
// with secret. It accepts only Sign's form, "sha256=" and 64 lowercase
// hex digits, and compares the MACs in constant time (hmac.Equal). It
// reports false for an empty secret, with which anyone could sign.
func Verify(secret, body []byte, header string) bool {
	digits, ok := strings.CutPrefix(header, prefix)
	if !ok || len(secret) == 0 || len(digits) != 2*sha256.Size || !lowerHex(digits) {
		return false
	}
	got, err := hex.DecodeString(digits)
	return err == nil && hmac.Equal(got, mac(secret, body))
}

func mac(secret, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write(body)
	return h.Sum(nil)
}

// lowerHex reports whether s holds only the digits 0-9 and a-f.
func lowerHex(s string) bool {
	for i := range len(s) {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// DeliveryID derives the id of the delivery of a run's outcome from its
// state file path, the outcome and the time the run started: the first
// 32 hex digits of a SHA-256 over them. The same run's outcome gets the
// same id however often it is sent, and a receiver can drop duplicates
// by it; another run on the same state (a resume) starts at another time
// and gets another id. started is taken in UTC, to the nanosecond.
func DeliveryID(state, outcome string, started time.Time) string {
	h := sha256.New()
	for _, s := range []string{state, outcome, started.UTC().Format(time.RFC3339Nano)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// Check says what is wrong with a webhook's URL and secret, or nil: the
// URL must be absolute, http or https, with a host, and the secret must
// not be empty. Its errors name the URL without its userinfo, query and
// fragment, and never the secret.
func Check(rawURL string, secret []byte) error {
	if _, err := parseURL(rawURL); err != nil {
		return err
	}
	if len(secret) == 0 {
		return errors.New("webhook secret is empty")
	}
	return nil
}

// parseURL parses and checks a webhook's URL (see [Check]).
func parseURL(rawURL string) (*url.URL, error) {
	if rawURL == "" {
		return nil, errors.New("webhook URL is empty")
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Parse's error quotes the whole URL, secrets and all.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("webhook URL: %w", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("webhook URL %s: want http or https", redact(u))
	case u.Host == "":
		return nil, fmt.Errorf("webhook URL %s: no host", redact(u))
	}
	return u, nil
}

// redact is u without its userinfo, query and fragment, where a
// receiver's token may be.
func redact(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.ForceQuery, c.Fragment, c.RawFragment = nil, "", false, "", ""
	return c.String()
}

// checkEvent says what is wrong with a Payload's Event, or nil.
func checkEvent(event string) error {
	switch event {
	case EventDone, EventFailed, EventBudget, EventInterrupted:
		return nil
	}
	return fmt.Errorf("webhook event %s: want %s, %s, %s or %s",
		msg.Key(event), EventDone, EventFailed, EventBudget, EventInterrupted)
}
