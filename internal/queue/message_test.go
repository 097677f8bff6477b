package queue_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/queue"
	"github.com/patchpanda/patchpanda/internal/queue/queuetest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestEncodeMatchesGolden(t *testing.T) {
	got, err := queue.Encode(queuetest.Message("job-1", 1))
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	golden := filepath.Join("testdata", "message_v1.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read golden (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("Encode (-golden +got):\n%s", diff)
	}
}

func TestDecodeGolden(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "message_v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := queue.Decode(b)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if diff := cmp.Diff(queuetest.Message("job-1", 1), got); diff != "" {
		t.Errorf("Decode (-want +got):\n%s", diff)
	}
}

func TestEncodeNormalises(t *testing.T) {
	m := queuetest.Message("job-1", 1)
	m.CreatedAt = m.CreatedAt.In(time.FixedZone("CEST", 2*60*60))
	m.Config = json.RawMessage("{\n  \"paths\": [\"internal/\"] ,\n  \"note\": \"<a&b>\"\n}\n")
	b, err := queue.Encode(m)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	for _, want := range []string{`"created_at":"2026-03-01T12:30:45.123456789Z"`, `"config":{"paths":["internal/"],"note":"<a&b>"}`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("Encode = %s\nwant it to contain %s", b, want)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	valid, err := queue.Encode(queuetest.Message("job-1", 1))
	if err != nil {
		t.Fatal(err)
	}
	// with returns the valid message with one top-level field replaced, or
	// removed when v is nil.
	with := func(field string, v any) string {
		var obj map[string]any
		if err := json.Unmarshal(valid, &obj); err != nil {
			t.Fatal(err)
		}
		if v == nil {
			delete(obj, field)
		} else {
			obj[field] = v
		}
		b, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		name string
		in   string
		want string // a substring of the error
	}{
		{"not JSON at all", `hello`, "at byte 1"},
		{"truncated JSON", string(valid[:40]), "unexpected end"},
		{"a JSON array", `[1,2]`, "want a JSON object"},
		{"no version", with("version", nil), "field version is missing"},
		{"a future version", with("version", 2), "version 2 is not supported (this relay reads version 1)"},
		{"version zero", with("version", 0), "version 0 is not supported"},
		{"a version that is text", with("version", "1"), `field version is "1", not a whole number`},
		{"an attempt that is text", with("attempt", "1"), "field attempt: want int, got string"},
		{"a repository that is a string", with("repository", "o/r"), "field repository: want patchpanda.Repository"},
		{"a created_at that is not a time", with("created_at", "yesterday"), "field created_at: want an RFC 3339 time"},
		{"a missing id", with("id", nil), "id is empty"},
		{"an unknown kind", with("kind", "write_docs"), `kind is "write_docs", want "generate_tests"`},
		{"attempt zero", with("attempt", 0), "attempt is 0, want 1 or more"},
		{"an unknown trigger", with("trigger", "cron"), `trigger is "cron"`},
		{"a short head sha", with("pull_request", map[string]any{"number": 7, "head_sha": "abc", "base_sha": strings.Repeat("b", 40)}), `pull_request.head_sha is "abc"`},
		{"config that is a list", with("config", []int{1}), "config is not a JSON object"},
		{"config that is null", with("config", nil), "config is not a JSON object"},
		{"a missing created_at", with("created_at", nil), "created_at is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := queue.Decode([]byte(tt.in))
			if err == nil {
				t.Fatalf("Decode(%s) = nil error, want one containing %q", tt.in, tt.want)
			}
			if got := patchpanda.ErrorCode(err); got != patchpanda.EINVALID {
				t.Errorf("ErrorCode = %q, want %q (err: %v)", got, patchpanda.EINVALID, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Decode error = %q\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

func TestDecodeIgnoresUnknownFields(t *testing.T) {
	b, err := queue.Encode(queuetest.Message("job-1", 1))
	if err != nil {
		t.Fatal(err)
	}
	b = append([]byte(`{"priority":"high",`), b[1:]...)
	got, err := queue.Decode(b)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if diff := cmp.Diff(queuetest.Message("job-1", 1), got); diff != "" {
		t.Errorf("Decode (-want +got):\n%s", diff)
	}
}

func TestValidateListsEveryBadField(t *testing.T) {
	err := queue.Validate(patchpanda.Message{Version: 1})
	if err == nil {
		t.Fatal("Validate(empty message) = nil")
	}
	for _, field := range []string{"id", "kind", "attempt", "repository.owner", "repository.name", "repository.id", "installation_id", "pull_request.number", "pull_request.head_sha", "pull_request.base_sha", "requested_by", "trigger", "config", "created_at"} {
		if !strings.Contains(err.Error(), field+" ") {
			t.Errorf("Validate error does not name %s: %v", field, err)
		}
	}
}

func TestEncodeRefusesSecrets(t *testing.T) {
	tests := []struct {
		name     string
		config   string
		wantPath string
	}{
		{"an installation token as a value", `{"env":{"X":"ghs_abc"}}`, "config.env.X"},
		{"a personal access token", `{"note":"ghp_abc"}`, "config.note"},
		{"a fine-grained token", `{"a":["x","github_pat_11AB"]}`, "config.a[1]"},
		{"a PatchPanda API key", `{"key":"ppk_abc"}`, "config.key"},
		{"a PEM block with leading space", `{"k":"  -----BEGIN RSA PRIVATE KEY-----"}`, "config.k"},
		{"a key named token", `{"token":"abc"}`, "config.token"},
		{"a key ending in _TOKEN", `{"env":{"NPM_TOKEN":"abc"}}`, "config.env.NPM_TOKEN"},
		{"a camelCase clientSecret", `{"oauth":{"clientSecret":"abc"}}`, "config.oauth.clientSecret"},
		{"a dashed db-password", `{"db-password":"hunter2"}`, "config.db-password"},
		{"a private_key", `{"private_key":"x"}`, "config.private_key"},
		{"an api_key in a list", `{"providers":[{"api_key":"sk"}]}`, "config.providers[0].api_key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := queuetest.Message("job-1", 1)
			m.Config = json.RawMessage(tt.config)
			_, err := queue.Encode(m)
			if err == nil {
				t.Fatalf("Encode(config %s) = nil error, want a secret refusal", tt.config)
			}
			if got := patchpanda.ErrorCode(err); got != patchpanda.EINVALID {
				t.Errorf("ErrorCode = %q, want %q", got, patchpanda.EINVALID)
			}
			if !strings.Contains(err.Error(), "config field "+tt.wantPath+" looks like a secret") {
				t.Errorf("error = %q, want it to name %s", err, tt.wantPath)
			}
			if strings.Contains(err.Error(), "abc") || strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error quotes the secret: %q", err)
			}
		})
	}
}

func TestEncodeAcceptsLookalikes(t *testing.T) {
	for _, config := range []string{
		`{"max_tokens":4096,"token_limit":"100k"}`,
		`{"tokens":"many","secrets_scanning":"on"}`,
		`{"token":"","password":null,"api_key":false}`,
		`{"branch":"ghost_writer","ref":"github_pages"}`,
		`{"prompt":"never print -----BEGIN blocks"}`,
	} {
		t.Run(config, func(t *testing.T) {
			m := queuetest.Message("job-1", 1)
			m.Config = json.RawMessage(config)
			if _, err := queue.Encode(m); err != nil {
				t.Errorf("Encode(config %s) = %v, want nil", config, err)
			}
		})
	}
}

func TestEncodeRefusesHugeMessages(t *testing.T) {
	m := queuetest.Message("job-1", 1)
	m.Config = json.RawMessage(`{"blob":"` + strings.Repeat("x", queue.MaxMessageSize) + `"}`)
	_, err := queue.Encode(m)
	if got := patchpanda.ErrorCode(err); got != patchpanda.ETOOLARGE {
		t.Errorf("Encode(huge) error = %v, want code %s", err, patchpanda.ETOOLARGE)
	}
}

func FuzzDecode(f *testing.F) {
	valid, err := queue.Encode(queuetest.Message("job-1", 1))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`{"version":1,"config":[]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := queue.Decode(b)
		if err != nil {
			if patchpanda.ErrorCode(err) != patchpanda.EINVALID {
				t.Fatalf("Decode error %v has code %q, want %q", err, patchpanda.ErrorCode(err), patchpanda.EINVALID)
			}
			return
		}
		// Whatever decodes must survive a round trip, unless it carries a
		// secret or is too large, which Encode refuses by design.
		enc, err := queue.Encode(m)
		if err != nil {
			if c := patchpanda.ErrorCode(err); c != patchpanda.EINVALID && c != patchpanda.ETOOLARGE {
				t.Fatalf("Encode(Decode(b)) = %v", err)
			}
			return
		}
		again, err := queue.Decode(enc)
		if err != nil {
			t.Fatalf("Decode(Encode(Decode(b))) = %v", err)
		}
		if diff := cmp.Diff(m.CreatedAt, again.CreatedAt); diff != "" && !m.CreatedAt.Equal(again.CreatedAt) {
			t.Errorf("created_at changed in a round trip: %s", diff)
		}
		m.Config, again.Config = nil, nil
		m.CreatedAt, again.CreatedAt = time.Time{}, time.Time{}
		if diff := cmp.Diff(m, again); diff != "" {
			t.Errorf("round trip changed the message (-first +second):\n%s", diff)
		}
	})
}
