package webhook

import "testing"

// FuzzVerify checks that Verify never panics and accepts a header only
// when it is Sign's output for the same secret and body.
func FuzzVerify(f *testing.F) {
	secret, body := []byte("s3cret"), []byte(`{"event":"done"}`)
	good := Sign(secret, body)
	for _, h := range []string{good, good[:len(good)-1], good + "0", "sha1=" + good[7:],
		"sha256=" + string(make([]byte, 64)), "SHA256=" + good[7:], "", "sha256="} {
		f.Add(secret, body, h)
	}
	f.Add([]byte{}, body, Sign(nil, body))
	f.Fuzz(func(t *testing.T, secret, body []byte, header string) {
		signed := Sign(secret, body)
		if Verify(secret, body, header) && header != signed {
			t.Fatalf("Verify accepted %q, Sign gives %q", header, signed)
		}
		if got, want := Verify(secret, body, signed), len(secret) > 0; got != want {
			t.Fatalf("Verify(Sign(%q, %q)) = %v, want %v", secret, body, got, want)
		}
	})
}
