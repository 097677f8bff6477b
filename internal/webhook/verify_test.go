package webhook_test

import (
	"strings"
	"testing"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/webhook"
)

// GitHub's documented test vector, from "Validating webhook deliveries"
// (docs.github.com/webhooks/using-webhooks/validating-webhook-deliveries).
const (
	docSecret    = "It's a Secret to Everybody"
	docPayload   = "Hello, World!"
	docSignature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
)

func TestSignMatchesGitHubTestVector(t *testing.T) {
	if got := webhook.Sign(docSecret, []byte(docPayload)); got != docSignature {
		t.Errorf("Sign(%q, %q) = %q, want %q", docSecret, docPayload, got, docSignature)
	}
}

func TestVerifyAcceptsGitHubTestVector(t *testing.T) {
	v := mustVerifier(t, docSecret)
	idx, err := v.Verify([]byte(docPayload), docSignature)
	if err != nil || idx != 0 {
		t.Fatalf("Verify(test vector) = %d, %v; want 0, nil", idx, err)
	}
}

func TestNewVerifier(t *testing.T) {
	tests := []struct {
		name    string
		secrets []string
		wantErr string
	}{
		{"refuses to run without a secret", nil, "no webhook secret configured"},
		{"refuses an empty list", []string{}, "no webhook secret configured"},
		{"refuses an empty secret, as from a stray comma", []string{"s1", ""}, "webhook secret 2 of 2 is empty"},
		{"accepts one secret", []string{"s1"}, ""},
		{"accepts several secrets for rotation", []string{"new", "old"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := webhook.NewVerifier(tt.secrets)
			if tt.wantErr == "" {
				if err != nil || v == nil {
					t.Fatalf("NewVerifier(%q) = %v, %v; want a verifier", tt.secrets, v, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("NewVerifier(%q) error = %v, want one containing %q", tt.secrets, err, tt.wantErr)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	body := []byte(`{"zen":"Design for failure."}`)
	v := mustVerifier(t, "new-secret", "old-secret")
	good := webhook.Sign("new-secret", body)
	tests := []struct {
		name      string
		body      []byte
		signature string
		wantIndex int
		wantMsg   string // "" means accepted
	}{
		{"accepts the first secret", body, good, 0, ""},
		{"accepts an older secret during rotation", body, webhook.Sign("old-secret", body), 1, ""},
		{"accepts upper-case hex digits", body, "sha256=" + strings.ToUpper(strings.TrimPrefix(good, "sha256=")), 0, ""},
		{"rejects a missing header", body, "", -1, "missing X-Hub-Signature-256 header"},
		{"rejects a digest without the sha256= prefix", body, strings.TrimPrefix(good, "sha256="), -1, "not of the form"},
		{"rejects the legacy sha1 form", body, "sha1=" + strings.TrimPrefix(good, "sha256="), -1, "not of the form"},
		{"rejects a truncated digest", body, good[:len(good)-2], -1, "not of the form"},
		{"rejects non-hex digits", body, "sha256=" + strings.Repeat("zz", 32), -1, "not of the form"},
		{"rejects a signature made with another secret", body, webhook.Sign("guess", body), -1, "does not match"},
		{"rejects a tampered body", append([]byte(" "), body...), good, -1, "does not match"},
		{"rejects an empty body signed for another body", nil, good, -1, "does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idx, err := v.Verify(tt.body, tt.signature)
			if tt.wantMsg == "" {
				if err != nil || idx != tt.wantIndex {
					t.Fatalf("Verify = %d, %v; want %d, nil", idx, err, tt.wantIndex)
				}
				return
			}
			if code := patchpanda.ErrorCode(err); code != patchpanda.EUNAUTHORIZED {
				t.Fatalf("Verify error = %v (code %q), want code %q", err, code, patchpanda.EUNAUTHORIZED)
			}
			if msg := patchpanda.ErrorMessage(err); !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("Verify error message = %q, want it to contain %q", msg, tt.wantMsg)
			}
			if idx != -1 {
				t.Errorf("Verify index = %d on failure, want -1", idx)
			}
		})
	}
}

func mustVerifier(t testing.TB, secrets ...string) *webhook.Verifier {
	t.Helper()
	v, err := webhook.NewVerifier(secrets)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
