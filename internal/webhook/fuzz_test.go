package webhook_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/webhook"
)

var fuzzSecrets = []string{"fuzz-new", "fuzz-old"}

// signedByAny reports, independently of the package, whether header is a
// valid signature of body under one of secrets.
func signedByAny(body []byte, header string, secrets []string) bool {
	digest, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(digest)
	if err != nil {
		return false
	}
	for _, s := range secrets {
		m := hmac.New(sha256.New, []byte(s))
		m.Write(body)
		if hmac.Equal(m.Sum(nil), got) {
			return true
		}
	}
	return false
}

func FuzzRead(f *testing.F) {
	for _, name := range []string{"ping.json", "issue_comment_created_on_pr.json", "push.json"} {
		body, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body, "", true, "application/json", "issue_comment", "guid-1", "12")
	}
	f.Add([]byte(`{}`), "sha256=00", false, "application/json", "ping", "guid-2", "")
	f.Add([]byte(`[]`), "", true, "text/plain", "", "", "x")
	f.Add([]byte(`{"installation":{"id":"x"}}`), "", true, "application/json; charset=utf-8", "ping", "g", "-1")
	f.Add([]byte(strings.Repeat("a", 600)), "", true, "application/json", "ping", "g", "1")

	v, err := webhook.NewVerifier(fuzzSecrets)
	if err != nil {
		f.Fatal(err)
	}
	allowed := map[string]bool{
		patchpanda.ETOOLARGE: true, patchpanda.EUNAUTHORIZED: true,
		patchpanda.EUNSUPPORTED: true, patchpanda.EINVALID: true,
	}
	f.Fuzz(func(t *testing.T, body []byte, sig string, sign bool, contentType, event, delivery, hookID string) {
		if sign {
			sig = webhook.Sign(fuzzSecrets[len(body)%2], body)
		}
		r := httptest.NewRequest(http.MethodPost, "/webhooks/github", bytes.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		r.Header.Set(webhook.SignatureHeader, sig)
		r.Header.Set(webhook.EventHeader, event)
		r.Header.Set(webhook.DeliveryHeader, delivery)
		r.Header.Set(webhook.HookIDHeader, hookID)

		d, err := v.Read(r, 512)
		if err != nil {
			if d != nil {
				t.Fatalf("Read returned a delivery with error %v", err)
			}
			if code := patchpanda.ErrorCode(err); !allowed[code] {
				t.Fatalf("Read error %v has code %q, want one the HTTP layer maps", err, code)
			}
			return
		}
		if !signedByAny(body, sig, fuzzSecrets) {
			t.Fatalf("Read accepted body %q under signature %q, which no secret produced", body, sig)
		}
		if !d.Verified || !bytes.Equal(d.Payload, body) || d.ID == "" || d.Event == "" {
			t.Fatalf("Read returned an incomplete delivery %+v", d)
		}
		if len(body) > 512 {
			t.Fatalf("Read accepted %d bytes over a 512-byte limit", len(body))
		}
		// The event Read parsed is the one Parse gives, and there is none
		// when Parse fails.
		ev, err := webhook.Parse(d.Event, d.Payload)
		if (err == nil) != (d.Parsed != nil) || !reflect.DeepEqual(ev, d.Parsed) {
			t.Fatalf("Read parsed %#v; Parse gives %#v, %v", d.Parsed, ev, err)
		}
	})
}

func FuzzParse(f *testing.F) {
	events := []string{"ping", "issue_comment", "pull_request", "check_run", "installation", "installation_repositories"}
	for i, name := range []string{
		"ping.json", "issue_comment_created_on_pr.json", "pull_request_opened_from_fork.json",
		"check_run_requested_action.json", "installation_created.json", "installation_repositories_added.json",
	} {
		body, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), "", body)
	}
	f.Add(uint8(255), "push", []byte(`{"action":1}`))
	f.Add(uint8(1), "", []byte(`{"issue":{"pull_request":{}},"comment":null}`))
	f.Add(uint8(2), "", []byte(`{"pull_request":{"head":{"repo":null},"base":{"repo":{}}}}`))

	f.Fuzz(func(t *testing.T, which uint8, other string, payload []byte) {
		event := other
		if int(which) < len(events) {
			event = events[which]
		}
		ev, err := webhook.Parse(event, payload)
		if err != nil {
			if ev != nil {
				t.Fatalf("Parse returned %#v with error %v", ev, err)
			}
			if code := patchpanda.ErrorCode(err); code != patchpanda.EINVALID {
				t.Fatalf("Parse error %v has code %q, want %q", err, code, patchpanda.EINVALID)
			}
			return
		}
		if ev == nil {
			t.Fatal("Parse returned neither an event nor an error")
		}
		if ev.EventName() != event {
			t.Fatalf("Parse(%q) returned an event named %q", event, ev.EventName())
		}
	})
}
