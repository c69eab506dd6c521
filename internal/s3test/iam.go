package s3test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/helios-project/helios-scaffold/internal/testdeadline"
)

// CreateUser creates an IAM user in moto with an access key and, unless
// policy is "", an inline policy (a JSON policy document), and returns
// the key. Once [Server.EnableAuth] is called, requests signed with it
// are allowed what the policy allows, as in AWS.
func (s *Server) CreateUser(tb testing.TB, name, policy string) (accessKeyID, secretAccessKey string) {
	tb.Helper()
	s.iam(tb, url.Values{"Action": {"CreateUser"}, "UserName": {name}}, nil)
	if policy != "" {
		s.iam(tb, url.Values{
			"Action":         {"PutUserPolicy"},
			"UserName":       {name},
			"PolicyName":     {name + "-policy"},
			"PolicyDocument": {policy},
		}, nil)
	}
	var out struct {
		AccessKeyID     string `xml:"CreateAccessKeyResult>AccessKey>AccessKeyId"`
		SecretAccessKey string `xml:"CreateAccessKeyResult>AccessKey>SecretAccessKey"`
	}
	s.iam(tb, url.Values{"Action": {"CreateAccessKey"}, "UserName": {name}}, &out)
	if out.AccessKeyID == "" || out.SecretAccessKey == "" {
		tb.Fatalf("moto IAM CreateAccessKey for %s returned no key", name)
	}
	return out.AccessKeyID, out.SecretAccessKey
}

// EnableAuth makes the server check the signature and the IAM permissions
// of every request from now on, as AWS does: only the keys made by
// [Server.CreateUser] are known, and the test credentials of
// [Server.Client] no longer are. moto does this for the whole server, so
// the shared server refuses it.
func (s *Server) EnableAuth(tb testing.TB) {
	tb.Helper()
	if s.shared {
		tb.Fatal("s3test: EnableAuth changes the whole server: use a server of the test's own (Start)")
	}
	// The number of requests still let through without checks.
	// (moto reads a text body: a form would leave it empty.)
	s.post(tb, s.Endpoint+"/moto-api/reset-auth", "text/plain", "0", nil, nil)
}

// iam calls moto's IAM query API with the test credentials; while auth is
// off it needs a signature only to tell that the call is for IAM.
func (s *Server) iam(tb testing.TB, params url.Values, out any) {
	tb.Helper()
	params.Set("Version", "2010-05-08")
	body := params.Encode()
	sign := func(req *http.Request) error {
		sum := sha256.Sum256([]byte(body))
		creds := aws.Credentials{AccessKeyID: AccessKeyID, SecretAccessKey: SecretAccessKey}
		return v4.NewSigner().SignHTTP(req.Context(), creds, req, hex.EncodeToString(sum[:]), "iam", Region, time.Now())
	}
	s.post(tb, s.Endpoint+"/", "application/x-www-form-urlencoded; charset=utf-8", body, sign, out)
}

// post sends body of the content type to u, signed by sign unless it is
// nil, and decodes an XML answer into out unless it is nil.
func (s *Server) post(tb testing.TB, u, contentType, body string, sign func(*http.Request) error, out any) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testdeadline.Remaining(tb))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if sign != nil {
		if err := sign(req); err != nil {
			tb.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("moto %s: %v", u, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s: %.300s", resp.Status, data)
	}
	if err == nil && out != nil {
		err = xml.Unmarshal(data, out)
	}
	if err != nil {
		tb.Fatalf("moto %s %s: %v", u, body, err)
	}
}
