package relay_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/patchpanda/patchpanda/internal/relay"
	"github.com/patchpanda/patchpanda/internal/store/storetest"
	"github.com/patchpanda/patchpanda/internal/webhook"
)

func withSecrets(s ...string) func(*relay.Config) {
	return func(c *relay.Config) { c.WebhookSecrets = s }
}

type delivery struct {
	event, id, secret, contentType string
	body                           []byte
	signature                      *string // nil: sign with secret
}

func send(t *testing.T, url string, d delivery) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/webhooks/github", bytes.NewReader(d.body))
	ct := d.contentType
	if ct == "" {
		ct = "application/json"
	}
	req.Header.Set("Content-Type", ct)
	if d.event != "" {
		req.Header.Set("X-GitHub-Event", d.event)
	}
	if d.id != "" {
		req.Header.Set("X-GitHub-Delivery", d.id)
	}
	req.Header.Set("X-GitHub-Hook-Installation-Target-Type", "integration")
	req.Header.Set("X-GitHub-Hook-Installation-Target-ID", "42")
	if d.signature != nil {
		if *d.signature != "" {
			req.Header.Set("X-Hub-Signature-256", *d.signature)
		}
	} else {
		req.Header.Set("X-Hub-Signature-256", webhook.Sign(d.secret, d.body))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	if got := resp.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", got)
	}
	return resp.StatusCode, b.String()
}

func installationPayload(id int64, repo string) []byte {
	return []byte(fmt.Sprintf(`{"action":"created","installation":{"id":%d,"account":{"login":"acme","type":"Organization"},"app_id":42},
		"repositories":[{"id":7,"name":%q,"full_name":"acme/%s","private":false}],"sender":{"login":"alice","type":"User"}}`, id, repo, repo))
}

func eachDB(t *testing.T, fn func(t *testing.T, url string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, "sqlite:"+filepath.Join(t.TempDir(), "relay.db")) })
	t.Run("postgres", func(t *testing.T) { fn(t, storetest.PostgresURL(t)) })
}

func TestWebhookAnswers(t *testing.T) {
	eachDB(t, func(t *testing.T, dbURL string) {
		r, _ := start(t, dbURL, withSecrets("old-secret", "new-secret"))
		body := installationPayload(1, "widgets")
		empty, bad := "", "sha256="+strings.Repeat("0", 64)
		tests := []struct {
			name string
			d    delivery
			want int
		}{
			{"signed with the new secret is accepted", delivery{event: "installation", id: "d-1", secret: "new-secret", body: body}, 202},
			{"signed with the old secret is accepted (rotation)", delivery{event: "installation", id: "d-2", secret: "old-secret", body: body}, 202},
			{"a redelivered id is acknowledged once", delivery{event: "installation", id: "d-1", secret: "new-secret", body: body}, 200},
			{"missing signature", delivery{event: "installation", id: "d-3", body: body, signature: &empty}, 401},
			{"wrong signature", delivery{event: "installation", id: "d-4", body: body, signature: &bad}, 401},
			{"signed with an unknown secret", delivery{event: "installation", id: "d-5", secret: "guess", body: body}, 401},
			{"not JSON", delivery{event: "installation", id: "d-6", secret: "new-secret", body: []byte("payload=x"), contentType: "application/x-www-form-urlencoded"}, 415},
			{"missing event header", delivery{id: "d-7", secret: "new-secret", body: body}, 400},
			{"missing delivery header", delivery{event: "installation", secret: "new-secret", body: body}, 400},
			{"ping", delivery{event: "ping", id: "d-8", secret: "new-secret", body: []byte(`{"zen":"Keep it logically awesome.","hook_id":1}`)}, 200},
			{"over 25 MB", delivery{event: "installation", id: "d-9", secret: "new-secret", body: bytes.Repeat([]byte(" "), 25<<20+10)}, 413},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				code, body := send(t, r.URL(), tt.d)
				if code != tt.want {
					t.Fatalf("status = %d (%s), want %d", code, body, tt.want)
				}
				if code >= 400 && !strings.Contains(body, `"error":{"code":`) {
					t.Errorf("error body not in the API's shape: %s", body)
				}
			})
		}
		// Both accepted deliveries are processed, each once.
		waitFor(t, func() bool {
			c, err := r.DB.DeliveryCounts(context.Background())
			return err == nil && c["done"] == 2
		})
		c, _ := r.DB.DeliveryCounts(context.Background())
		if c["pending"] != 0 || c["failed"] != 0 || c["done"] != 2 {
			t.Errorf("delivery states = %v", c)
		}
		d, err := r.DB.Delivery(context.Background(), 42, "d-1")
		if err != nil || d.Attempts != 1 {
			t.Errorf("d-1 = %+v, %v; want processed in one attempt", d, err)
		}
		if id, err := r.DB.InstallationFor(context.Background(), "acme/widgets"); err != nil || id != 1 {
			t.Errorf("installation for acme/widgets = %d, %v", id, err)
		}
	})
}

func TestWebhookWithoutSecretRefusesEverything(t *testing.T) {
	r, _ := start(t, "sqlite:"+filepath.Join(t.TempDir(), "relay.db"))
	code, body := send(t, r.URL(), delivery{event: "installation", id: "x", secret: "", body: []byte(`{}`)})
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "PATCHPANDA_WEBHOOK_SECRET") {
		t.Fatalf("status = %d %s, want 503 naming the setting", code, body)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	waitForWithin(t, 30*time.Second, cond)
}

// waitForWithin polls cond; the bound only stops a hung test, it is not a
// speed requirement.
func waitForWithin(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
