package relay_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/relay"
	"github.com/patchpanda/patchpanda/internal/store/storetest"
)

// runRelay starts a relay and returns a function that stops it (taking the
// shutdown checkpoint) and closes it.
func runRelay(t *testing.T, cfg relay.Config, logs *syncBuffer) (*relay.Relay, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r, err := relay.Open(ctx, cfg, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var stopped bool
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		r.Close()
	}
	t.Cleanup(stop)
	return r, stop
}

func TestAuditChainSurvivesARestartAndCatchesACutTail(t *testing.T) {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	keeper := "base64key://" + base64.URLEncoding.EncodeToString(key)
	for _, tc := range []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "relay.db") }},
		{"postgres", func(t *testing.T) string { return storetest.PostgresURL(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			cfg := relay.Config{
				Addr: "127.0.0.1:0", DatabaseURL: tc.url(t), QueueBackend: "db", SecretsKeeper: keeper,
				GitHubAPIURL: "https://api.github.com", ShutdownTimeout: 5 * time.Second,
				CoverageBlobURL: "file://" + t.TempDir(), CoverageMaxUploadBytes: 1 << 20,
				ActionsOIDCIssuer: "https://token.actions.githubusercontent.com", ActionsOIDCAudience: "patchpanda",
			}
			logs := &syncBuffer{}
			r, stop := runRelay(t, cfg, logs)
			_, adminKey, err := r.Keys.Create(ctx, "bootstrap", []patchpanda.Scope{patchpanda.ScopeAdmin}, 0, "test")
			if err != nil {
				t.Fatal(err)
			}
			admin := httpapi.NewClient(r.URL(), adminKey)
			for _, name := range []string{"ci-1", "ci-2", "ci-3"} {
				if _, err := admin.CreateKey(ctx, httpapi.CreateKeyRequest{Name: name, Scopes: []patchpanda.Scope{patchpanda.ScopeCoverageRead}}); err != nil {
					t.Fatal(err)
				}
			}
			rep, err := admin.VerifyAudit(ctx, nil)
			if err != nil || !rep.Verified || !rep.Keyed || rep.KeyedAfter != 0 || rep.Events != 4 {
				t.Fatalf("verify = %+v, %v", rep, err)
			}
			stop()
			m := regexp.MustCompile(`"audit checkpoint" reason=shutdown event_id=4 hash=([0-9a-f]{64})`).FindStringSubmatch(logs.String())
			if m == nil {
				t.Fatalf("no shutdown checkpoint in the log:\n%s", logs.String())
			}

			// An attacker with the database deletes the newest event.
			r2, _ := runRelay(t, cfg, &syncBuffer{})
			if _, err := r2.DB.ExecRaw(ctx, `DELETE FROM audit_events WHERE id = 4`); err != nil {
				t.Fatal(err)
			}
			rep, err = httpapi.NewClient(r2.URL(), adminKey).VerifyAudit(ctx, &patchpanda.AuditHead{ID: 4, Hash: m[1]})
			if err != nil || rep.Verified || rep.Problem == nil || rep.Problem.Kind != patchpanda.AuditTruncated || rep.Problem.EventID != 4 {
				t.Fatalf("verify after deleting the newest event = %+v, %v", rep.Problem, err)
			}
		})
	}
}

// The README's first steps: a relay on the embedded default running, and
// `relay admin-key create` run beside it (and once before it ever ran).
// The keys' audit events join the relay's keyed chain, which verifies.
func TestAdminKeysCreatedBesideTheRelayKeepTheChainVerified(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dbURL := "sqlite:" + filepath.Join(dir, "relay.db")
	createKey := func() string {
		var out, errOut syncBuffer
		if code := relay.Main(ctx, []string{"relay", "admin-key", "create", "--database-url", dbURL}, &out, &errOut); code != 0 {
			t.Fatalf("admin-key create: exit %d: %s", code, errOut.String())
		}
		return strings.TrimSpace(out.String())
	}
	createKey() // before the relay ever ran: the chain key is made here
	cfg := relay.Config{
		Addr: "127.0.0.1:0", DatabaseURL: dbURL, QueueBackend: "db",
		GitHubAPIURL: "https://api.github.com", ShutdownTimeout: 5 * time.Second,
		CoverageBlobURL: "file://" + t.TempDir(), CoverageMaxUploadBytes: 1 << 20,
		ActionsOIDCIssuer: "https://token.actions.githubusercontent.com", ActionsOIDCAudience: "patchpanda",
	}
	r, _ := runRelay(t, cfg, &syncBuffer{})
	admin := httpapi.NewClient(r.URL(), createKey()) // while the relay runs
	if _, err := admin.CreateKey(ctx, httpapi.CreateKeyRequest{Name: "ci", Scopes: []patchpanda.Scope{patchpanda.ScopeCoverageRead}}); err != nil {
		t.Fatal(err)
	}
	rep, err := admin.VerifyAudit(ctx, nil)
	if err != nil || !rep.Verified || !rep.Keyed || rep.Events != 3 {
		t.Fatalf("verify = %+v, %v; want a verified keyed chain of 3 events", rep, err)
	}
}
