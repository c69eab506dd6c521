package webhook

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

// The vectors come from openssl: printf %s BODY | openssl dgst -sha256 -hmac SECRET.
// The first is also GitHub's documented X-Hub-Signature-256 example.
func TestSignKnownVectors(t *testing.T) {
	for _, tc := range []struct{ secret, body, want string }{
		{"It's a Secret to Everybody", "Hello, World!",
			"sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"},
		{"whsec-test", `{"event":"done","job":"intro"}`,
			"sha256=8fc32012149edda66897b1bd3cc23f0ec44001719a91e02796a8078e0bb8cd8c"},
	} {
		if got := Sign([]byte(tc.secret), []byte(tc.body)); got != tc.want {
			t.Errorf("Sign(%q, %q) = %s, want %s", tc.secret, tc.body, got, tc.want)
		}
		if !Verify([]byte(tc.secret), []byte(tc.body), tc.want) {
			t.Errorf("Verify(%q, %q, %s) = false, want true", tc.secret, tc.body, tc.want)
		}
	}
}

func TestVerify(t *testing.T) {
	secret, body := []byte("s3cret"), []byte(`{"event":"failed"}`)
	good := Sign(secret, body)
	digits := strings.TrimPrefix(good, "sha256=")
	m := hmac.New(sha1.New, secret)
	m.Write(body)
	sha1Header := "sha1=" + hex.EncodeToString(m.Sum(nil))
	for _, tc := range []struct {
		name         string
		secret, body []byte
		header       string
		want         bool
	}{
		{"signed", secret, body, good, true},
		{"tampered body", secret, []byte(`{"event":"done"}`), good, false},
		{"body with a byte more", secret, append(append([]byte{}, body...), '\n'), good, false},
		{"wrong secret", []byte("s3cret2"), body, good, false},
		{"empty secret", nil, body, Sign(nil, body), false},
		{"sha1", secret, body, sha1Header, false},
		{"sha1 prefix on the sha256 digits", secret, body, "sha1=" + digits, false},
		{"no prefix", secret, body, digits, false},
		{"uppercase prefix", secret, body, "SHA256=" + digits, false},
		{"uppercase hex", secret, body, "sha256=" + strings.ToUpper(digits), false},
		{"short hex", secret, body, good[:len(good)-1], false},
		{"long hex", secret, body, good + "0", false},
		{"odd byte", secret, body, good[:len(good)-1] + "g", false},
		{"space after", secret, body, good + " ", false},
		{"prefix only", secret, body, "sha256=", false},
		{"empty", secret, body, "", false},
		{"twice", secret, body, good + "," + good, false},
	} {
		if got := Verify(tc.secret, tc.body, tc.header); got != tc.want {
			t.Errorf("%s: Verify(%q, %q, %q) = %v, want %v", tc.name, tc.secret, tc.body, tc.header, got, tc.want)
		}
	}
}

func TestDeliveryID(t *testing.T) {
	start := time.Date(2026, 3, 1, 9, 30, 0, 123456789, time.UTC)
	id := DeliveryID("/renders/.intro.helios-run", EventDone, start)
	if len(id) != 32 || !lowerHex(id) {
		t.Fatalf("DeliveryID = %q, want 32 lowercase hex digits", id)
	}
	paris := time.FixedZone("CET", 3600)
	now := time.Now()
	for _, tc := range []struct {
		name    string
		a, b    string
		sameIDs bool
	}{
		{"same inputs",
			id, DeliveryID("/renders/.intro.helios-run", EventDone, start), true},
		{"same instant in another zone",
			id, DeliveryID("/renders/.intro.helios-run", EventDone, start.In(paris)), true},
		{"with and without a monotonic reading",
			DeliveryID("s", EventDone, now), DeliveryID("s", EventDone, now.Round(0)), true},
		{"another outcome",
			id, DeliveryID("/renders/.intro.helios-run", EventFailed, start), false},
		{"another state",
			id, DeliveryID("/renders/.outro.helios-run", EventDone, start), false},
		{"another start",
			id, DeliveryID("/renders/.intro.helios-run", EventDone, start.Add(time.Nanosecond)), false},
		{"fields do not run together",
			DeliveryID("ab", "c", start), DeliveryID("a", "bc", start), false},
	} {
		if (tc.a == tc.b) != tc.sameIDs {
			t.Errorf("%s: ids %s and %s, want same: %v", tc.name, tc.a, tc.b, tc.sameIDs)
		}
	}
}

func TestCheck(t *testing.T) {
	secret := []byte("s3cret")
	for _, tc := range []struct {
		url    string
		secret []byte
		want   string // the error, or "" for none
	}{
		{"https://hooks.example.com/helios", secret, ""},
		{"http://127.0.0.1:8080/hook?token=abc", secret, ""},
		{"HTTPS://hooks.example.com/helios", secret, ""},
		{"https://user:pw@hooks.example.com/helios", secret, ""},
		{"https://hooks.example.com/helios", nil, "webhook secret is empty"},
		{"https://hooks.example.com/helios", []byte{}, "webhook secret is empty"},
		{"ftp://x", secret, "webhook URL ftp://x: want http or https"},
		{"ftp://user:pw@x/p?token=abc#frag", secret, "webhook URL ftp://x/p: want http or https"},
		{"/hook", secret, "webhook URL /hook: want http or https"},
		{"hooks.example.com/helios", secret, "webhook URL hooks.example.com/helios: want http or https"},
		{"", secret, "webhook URL is empty"},
		{"http:///hook", secret, "webhook URL http:///hook: no host"},
		{"https:opaque?token=abc", secret, "webhook URL https:opaque: no host"},
		{"https://h/\x7f?token=abc", secret, "webhook URL: net/url: invalid control character in URL"},
		{"https://user:pw@[::1/?token=abc", secret, `webhook URL: missing ']' in host`},
	} {
		err := Check(tc.url, tc.secret)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("Check(%q) = %v, want nil", tc.url, err)
		case tc.want != "" && (err == nil || err.Error() != tc.want):
			t.Errorf("Check(%q) = %v, want %s", tc.url, err, tc.want)
		case err != nil && containsAny(err.Error(), "pw", "abc", "s3cret", "\x7f"):
			t.Errorf("Check(%q) = %v, which holds a secret", tc.url, err)
		}
	}
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
