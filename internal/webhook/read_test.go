package webhook_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/webhook"
)

const testSecret = "s3cret-for-tests"

// signedRequest builds the request GitHub would send for body, signed with
// testSecret, as an issue_comment delivery. Tests then break one thing.
func signedRequest(body []byte) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/webhooks/github", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("User-Agent", "GitHub-Hookshot/044aadd")
	r.Header.Set(webhook.EventHeader, "issue_comment")
	r.Header.Set(webhook.DeliveryHeader, "72d3162e-cc78-11e3-81ab-4c9367dc0958")
	r.Header.Set(webhook.HookIDHeader, "480112233")
	r.Header.Set(webhook.TargetTypeHeader, "integration")
	r.Header.Set(webhook.TargetIDHeader, "912345")
	r.Header.Set(webhook.SignatureHeader, webhook.Sign(testSecret, body))
	return r
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReadAcceptsASignedDelivery(t *testing.T) {
	body := readFixture(t, "issue_comment_created_on_pr.json")
	v := mustVerifier(t, "rotated-out", testSecret)
	got, err := v.Read(signedRequest(body), 0)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := webhook.Parse("issue_comment", body)
	if err != nil {
		t.Fatal(err)
	}
	want := &webhook.Delivery{
		ID:             "72d3162e-cc78-11e3-81ab-4c9367dc0958",
		Event:          "issue_comment",
		Action:         "created",
		HookID:         480112233,
		TargetType:     "integration",
		TargetID:       912345,
		InstallationID: 51234567,
		Repository:     &patchpanda.Repository{Owner: "acme-labs", Name: "ledger", ID: 700111222},
		Sender:         "maria-dev",
		Payload:        body,
		Parsed:         parsed,
		Verified:       true,
		SecretIndex:    1,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Read mismatch (-want +got):\n%s", diff)
	}
}

func TestReadLeavesAbsentEnvelopeFieldsZero(t *testing.T) {
	body := []byte(`{"zen":"Speak like a human.","hook_id":1}`)
	r := signedRequest(body)
	r.Header.Set(webhook.EventHeader, "ping")
	r.Header.Del(webhook.HookIDHeader)
	r.Header.Del(webhook.TargetIDHeader)
	r.Header.Del(webhook.TargetTypeHeader)
	got, err := mustVerifier(t, testSecret).Read(r, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := &webhook.Delivery{
		ID:       "72d3162e-cc78-11e3-81ab-4c9367dc0958",
		Event:    "ping",
		Payload:  body,
		Parsed:   &webhook.PingEvent{Zen: "Speak like a human.", HookID: 1},
		Verified: true,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Read mismatch (-want +got):\n%s", diff)
	}
}

func TestReadRejects(t *testing.T) {
	good := []byte(`{"action":"created","installation":{"id":5}}`)
	const limit = 1024
	big := []byte(`{"pad":"` + strings.Repeat("x", limit) + `"}`)
	tests := []struct {
		name     string
		req      func() *http.Request
		wantCode string
		wantMsg  string
	}{
		{
			name:     "a body over the limit announced by Content-Length, before reading it",
			req:      func() *http.Request { return signedRequest(big) },
			wantCode: patchpanda.ETOOLARGE,
			wantMsg:  "exceeds the limit of 1024 bytes",
		},
		{
			name: "a streamed body over the limit",
			req: func() *http.Request {
				r := signedRequest(big)
				r.ContentLength = -1
				return r
			},
			wantCode: patchpanda.ETOOLARGE,
		},
		{
			name: "an oversized unsigned body with 413, not 401",
			req: func() *http.Request {
				r := signedRequest(big)
				r.Header.Del(webhook.SignatureHeader)
				return r
			},
			wantCode: patchpanda.ETOOLARGE,
		},
		{
			name: "a body the HTTP layer already cut with http.MaxBytesReader",
			req: func() *http.Request {
				r := signedRequest(good)
				r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, 10)
				r.ContentLength = -1
				return r
			},
			wantCode: patchpanda.ETOOLARGE,
		},
		{
			name: "a missing signature",
			req: func() *http.Request {
				r := signedRequest(good)
				r.Header.Del(webhook.SignatureHeader)
				return r
			},
			wantCode: patchpanda.EUNAUTHORIZED,
			wantMsg:  "missing X-Hub-Signature-256 header",
		},
		{
			name: "a bad signature before looking at anything else",
			req: func() *http.Request {
				r := signedRequest([]byte("not json"))
				r.Header.Set(webhook.SignatureHeader, webhook.Sign("wrong", []byte("not json")))
				r.Header.Set("Content-Type", "text/plain")
				r.Header.Del(webhook.EventHeader)
				r.Header.Del(webhook.DeliveryHeader)
				return r
			},
			wantCode: patchpanda.EUNAUTHORIZED,
			wantMsg:  "does not match",
		},
		{
			name: "a signature over a different body",
			req: func() *http.Request {
				r := signedRequest(good)
				r.Header.Set(webhook.SignatureHeader, webhook.Sign(testSecret, []byte(`{}`)))
				return r
			},
			wantCode: patchpanda.EUNAUTHORIZED,
		},
		{
			name: "a form-encoded body",
			req: func() *http.Request {
				r := signedRequest(good)
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				return r
			},
			wantCode: patchpanda.EUNSUPPORTED,
			wantMsg:  `Content-Type "application/x-www-form-urlencoded" is not supported`,
		},
		{
			name: "a missing Content-Type",
			req: func() *http.Request {
				r := signedRequest(good)
				r.Header.Del("Content-Type")
				return r
			},
			wantCode: patchpanda.EUNSUPPORTED,
			wantMsg:  `Content-Type "none"`,
		},
		{
			name: "a missing X-GitHub-Event",
			req: func() *http.Request {
				r := signedRequest(good)
				r.Header.Del(webhook.EventHeader)
				return r
			},
			wantCode: patchpanda.EINVALID,
			wantMsg:  "missing X-GitHub-Event header",
		},
		{
			name: "a missing X-GitHub-Delivery",
			req: func() *http.Request {
				r := signedRequest(good)
				r.Header.Del(webhook.DeliveryHeader)
				return r
			},
			wantCode: patchpanda.EINVALID,
			wantMsg:  "missing X-GitHub-Delivery header",
		},
		{
			name: "a delivery id with control characters",
			req: func() *http.Request {
				r := signedRequest(good)
				r.Header.Set(webhook.DeliveryHeader, "abc\x00def")
				return r
			},
			wantCode: patchpanda.EINVALID,
			wantMsg:  "X-GitHub-Delivery header is not a short printable ASCII value",
		},
		{
			name: "a hook id that is not a number",
			req: func() *http.Request {
				r := signedRequest(good)
				r.Header.Set(webhook.HookIDHeader, "12x")
				return r
			},
			wantCode: patchpanda.EINVALID,
			wantMsg:  `X-GitHub-Hook-ID header "12x" is not a non-negative integer`,
		},
		{
			name:     "an empty body",
			req:      func() *http.Request { return signedRequest(nil) },
			wantCode: patchpanda.EINVALID,
			wantMsg:  "issue_comment payload: body is empty",
		},
		{
			name:     "a body that is not JSON",
			req:      func() *http.Request { return signedRequest([]byte(`{"action":`)) },
			wantCode: patchpanda.EINVALID,
			wantMsg:  "issue_comment payload: body is not valid JSON",
		},
		{
			name:     "a JSON body that is not an object",
			req:      func() *http.Request { return signedRequest([]byte(`["created"]`)) },
			wantCode: patchpanda.EINVALID,
			wantMsg:  "body is not a JSON object",
		},
		{
			name:     "an envelope field of the wrong type, naming it",
			req:      func() *http.Request { return signedRequest([]byte(`{"installation":{"id":"five"}}`)) },
			wantCode: patchpanda.EINVALID,
			wantMsg:  "installation.id: want an integer, got JSON string",
		},
	}
	v := mustVerifier(t, testSecret)
	for _, tt := range tests {
		t.Run("rejects "+tt.name, func(t *testing.T) {
			d, err := v.Read(tt.req(), limit)
			if d != nil {
				t.Errorf("Read returned a delivery %+v with error %v", d, err)
			}
			if code := patchpanda.ErrorCode(err); code != tt.wantCode {
				t.Fatalf("Read error = %v (code %q), want code %q", err, code, tt.wantCode)
			}
			if msg := patchpanda.ErrorMessage(err); !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("Read error message = %q, want it to contain %q", msg, tt.wantMsg)
			}
			if !strings.HasPrefix(err.Error(), "webhook: read delivery: ") {
				t.Errorf("Read error %q lacks its context prefix", err)
			}
		})
	}
}

// endless is a body that never ends and counts what was read from it.
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	e.n += int64(len(p))
	return len(p), nil
}

func TestReadStopsReadingJustPastTheLimit(t *testing.T) {
	body := &endless{}
	r := httptest.NewRequest(http.MethodPost, "/webhooks/github", io.NopCloser(body))
	r.ContentLength = -1
	r.Header.Set(webhook.SignatureHeader, webhook.Sign(testSecret, nil)) // well formed, so the body is read
	const limit = 4096
	_, err := mustVerifier(t, testSecret).Read(r, limit)
	if code := patchpanda.ErrorCode(err); code != patchpanda.ETOOLARGE {
		t.Fatalf("Read error = %v, want code %q", err, patchpanda.ETOOLARGE)
	}
	if body.n != limit+1 {
		t.Errorf("Read consumed %d bytes of an endless body, want exactly limit+1 = %d", body.n, limit+1)
	}
}

func TestReadRefusesAMissingOrMalformedSignatureBeforeReadingTheBody(t *testing.T) {
	for name, sig := range map[string]string{"missing": "", "malformed": "sha1=abc", "not hex": "sha256=" + strings.Repeat("z", 64)} {
		t.Run(name, func(t *testing.T) {
			body := &endless{}
			r := httptest.NewRequest(http.MethodPost, "/webhooks/github", io.NopCloser(body))
			r.ContentLength = -1
			if sig != "" {
				r.Header.Set(webhook.SignatureHeader, sig)
			}
			_, err := mustVerifier(t, testSecret).Read(r, 1<<20)
			if code := patchpanda.ErrorCode(err); code != patchpanda.EUNAUTHORIZED {
				t.Fatalf("Read error = %v, want code %q", err, patchpanda.EUNAUTHORIZED)
			}
			if body.n != 0 {
				t.Errorf("Read consumed %d bytes before refusing the signature header; want none", body.n)
			}
		})
	}
}

func TestReadUsesTheDefaultLimitWhenGivenNone(t *testing.T) {
	r := signedRequest([]byte(`{}`))
	r.ContentLength = webhook.DefaultMaxBytes + 1
	_, err := mustVerifier(t, testSecret).Read(r, 0)
	if code := patchpanda.ErrorCode(err); code != patchpanda.ETOOLARGE {
		t.Fatalf("Read error = %v, want code %q", err, patchpanda.ETOOLARGE)
	}
	if msg := patchpanda.ErrorMessage(err); !strings.Contains(msg, "26214400 bytes") {
		t.Errorf("Read error message = %q, want the 25 MB default named", msg)
	}
}

type failingBody struct{}

func (failingBody) Read([]byte) (int, error) { return 0, errors.New("connection reset by peer") }

func TestReadReportsABodyThatCannotBeReadAsInvalidAndKeepsTheCause(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/webhooks/github", failingBody{})
	r.ContentLength = -1
	r.Header.Set(webhook.SignatureHeader, webhook.Sign(testSecret, nil))
	_, err := mustVerifier(t, testSecret).Read(r, 0)
	if code := patchpanda.ErrorCode(err); code != patchpanda.EINVALID {
		t.Fatalf("Read error = %v, want code %q", err, patchpanda.EINVALID)
	}
	if !strings.Contains(err.Error(), "connection reset by peer") {
		t.Errorf("Read error %q lost its cause", err)
	}
	if msg := patchpanda.ErrorMessage(err); strings.Contains(msg, "reset") {
		t.Errorf("user-facing message %q leaks the internal cause", msg)
	}
}

func TestReadAcceptsAJSONContentTypeWithParameters(t *testing.T) {
	r := signedRequest([]byte(`{}`))
	r.Header.Set("Content-Type", "Application/JSON; charset=utf-8")
	if _, err := mustVerifier(t, testSecret).Read(r, 0); err != nil {
		t.Fatalf("Read = %v, want success", err)
	}
}

func TestReadParsesThePayloadAsItsEvent(t *testing.T) {
	d, err := mustVerifier(t, testSecret).Read(signedRequest(readFixture(t, "issue_comment_created_on_pr.json")), 0)
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := d.Parsed.(*webhook.IssueCommentEvent); !ok || c.CommentID != 2120001001 {
		t.Errorf("Delivery.Parsed = %#v, want the issue comment 2120001001", d.Parsed)
	}
}

func TestReadAcceptsAnEnvelopeWhoseEventDoesNotParse(t *testing.T) {
	// The processor, not the sender, learns what is wrong: the delivery is
	// stored and fails there with Parse's reason.
	body := []byte(`{"action":"created","installation":{"id":7},"sender":{"login":"octocat"},"comment":{"body":"hi"}}`)
	d, err := mustVerifier(t, testSecret).Read(signedRequest(body), 0)
	if err != nil {
		t.Fatalf("Read = %v, want the delivery accepted", err)
	}
	if d.Parsed != nil || d.Action != "created" || d.InstallationID != 7 || d.Sender != "octocat" {
		t.Errorf("Read = %+v, want the envelope and no parsed event", d)
	}
	if _, err := webhook.Parse(d.Event, d.Payload); err == nil || !strings.Contains(err.Error(), "comment.id") {
		t.Errorf("Parse = %v, want it to name the missing comment.id", err)
	}
}

func BenchmarkRead(b *testing.B) {
	body := readFixture(b, "pull_request_opened_from_fork.json")
	v := mustVerifier(b, "old-secret", testSecret)
	sig := webhook.Sign(testSecret, body)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		r := signedRequest(nil)
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		r.Header.Set(webhook.SignatureHeader, sig)
		r.Header.Set(webhook.EventHeader, "pull_request")
		if _, err := v.Read(r, 0); err != nil {
			b.Fatal(err)
		}
	}
}
