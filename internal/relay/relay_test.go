package relay_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/relay"
	"github.com/patchpanda/patchpanda/internal/store/storetest"
)

// syncBuffer is a log sink safe for the relay's concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func start(t *testing.T, dbURL string, opts ...func(*relay.Config)) (*relay.Relay, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	cfg := relay.Config{
		Addr: "127.0.0.1:0", DatabaseURL: dbURL, QueueBackend: "db",
		GitHubAPIURL: "https://api.github.com", ShutdownTimeout: 5 * time.Second,
		CoverageBlobURL: "file://" + t.TempDir(), CoverageMaxUploadBytes: 64 << 20, CoverageUploadsPerMinute: 60,
		ActionsOIDCIssuer: "https://token.actions.githubusercontent.com", ActionsOIDCAudience: "patchpanda",
	}
	for _, o := range opts {
		o(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r, err := relay.Open(ctx, cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		r.Close()
	})
	return r, logs
}

func TestKeyLifecycleOverHTTP(t *testing.T) {
	for _, tc := range []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "relay.db") }},
		{"postgres", func(t *testing.T) string { return storetest.PostgresURL(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			r, logs := start(t, tc.url(t))
			_, adminKey, err := r.Keys.Create(ctx, "bootstrap", []patchpanda.Scope{patchpanda.ScopeAdmin}, 0, "test")
			if err != nil {
				t.Fatal(err)
			}
			admin := httpapi.NewClient(r.URL(), adminKey)

			created, err := admin.CreateKey(ctx, httpapi.CreateKeyRequest{Name: "ci", Scopes: []patchpanda.Scope{patchpanda.ScopeCoverageRead}, ExpiresIn: "30d"})
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			if created.APIKey.ExpiresAt == nil || created.APIKey.ExpiresAt.Before(time.Now().Add(29*24*time.Hour)) {
				t.Errorf("expires_at = %v, want about 30 days ahead", created.APIKey.ExpiresAt)
			}
			user := httpapi.NewClient(r.URL(), created.Key)

			// Used: a key with the wrong scope is authenticated but forbidden.
			if _, err := user.ListKeys(ctx); patchpanda.ErrorCode(err) != patchpanda.EFORBIDDEN {
				t.Fatalf("list with coverage:read key: %v, want forbidden", err)
			}
			list, err := admin.ListKeys(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var seen bool
			for _, k := range list {
				if k.ID == created.APIKey.ID {
					seen = true
					if k.LastUsedAt == nil {
						t.Error("last_used_at not recorded after use")
					}
				}
			}
			if !seen {
				t.Fatalf("created key not listed: %+v", list)
			}

			if _, err := admin.RevokeKey(ctx, created.APIKey.ID); err != nil {
				t.Fatalf("revoke: %v", err)
			}
			if _, err := user.ListKeys(ctx); patchpanda.ErrorCode(err) != patchpanda.EUNAUTHORIZED {
				t.Fatalf("revoked key: %v, want unauthorized", err)
			}
			if _, err := httpapi.NewClient(r.URL(), "").ListKeys(ctx); patchpanda.ErrorCode(err) != patchpanda.EUNAUTHORIZED {
				t.Fatalf("no key: %v, want unauthorized", err)
			}
			if _, err := admin.RevokeKey(ctx, 424242); patchpanda.ErrorCode(err) != patchpanda.ENOTFOUND {
				t.Fatalf("revoke unknown: %v, want not_found", err)
			}

			// The plaintext is nowhere but in the one answer.
			for _, secret := range []string{created.Key, adminKey} {
				if strings.Contains(logs.String(), secret) {
					t.Error("a plaintext key appears in the logs")
				}
				if p := r.DB.Path(); p != "" {
					for _, f := range []string{p, p + "-wal"} {
						b, _ := os.ReadFile(f)
						if bytes.Contains(b, []byte(secret)) {
							t.Errorf("a plaintext key appears in %s", f)
						}
					}
				}
			}
			evs, err := r.DB.AuditEvents(ctx, patchpanda.AuditFilter{})
			if err != nil {
				t.Fatal(err)
			}
			var actions []string
			for _, e := range evs {
				actions = append(actions, e.Action)
			}
			if got := strings.Join(actions, ","); got != "key.created,key.created,key.revoked" {
				t.Errorf("audit actions = %s", got)
			}
		})
	}
}

func TestHealthReadinessAndMetrics(t *testing.T) {
	r, _ := start(t, "sqlite:"+filepath.Join(t.TempDir(), "relay.db"))
	for _, path := range []string{"/healthz", "/readyz", "/metrics", "/nope"} {
		resp, err := http.Get(r.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := http.StatusOK
		if path == "/nope" {
			want = http.StatusNotFound
		}
		if resp.StatusCode != want {
			t.Errorf("GET %s = %d, want %d", path, resp.StatusCode, want)
		}
		if resp.Header.Get("X-Request-Id") == "" {
			t.Errorf("GET %s has no X-Request-Id", path)
		}
	}
	resp, err := http.Get(r.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	for _, want := range []string{"patchpanda_deliveries_pending 0", `patchpanda_jobs{state="queued"} 0`, `patchpanda_outbox_pending{kind="github"} 0`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if !strings.Contains(b.String(), `patchpanda_http_requests_total{code="200",method="GET",route="GET /healthz"} 1`) {
		t.Errorf("metrics lack the healthz request count:\n%s", b.String())
	}
}

func TestShutdownFinishesInFlightRequests(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r, err := relay.Open(ctx, relay.Config{Addr: "127.0.0.1:0", DatabaseURL: "sqlite:" + filepath.Join(t.TempDir(), "r.db"), QueueBackend: "db",
		GitHubAPIURL: "https://api.github.com", ShutdownTimeout: 10 * time.Second, CoverageBlobURL: "file://" + t.TempDir(),
		CoverageMaxUploadBytes: 1 << 20, ActionsOIDCIssuer: "https://token.actions.githubusercontent.com"},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	_, key, err := r.Keys.Create(context.Background(), "w", []patchpanda.Scope{patchpanda.ScopeWorker}, 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	// A worker's long poll is in flight when SIGTERM arrives.
	answered := make(chan error, 1)
	go func() {
		l, err := httpapi.NewClient(r.URL(), key).LeaseJob(context.Background(), 2*time.Second)
		if err == nil && l != nil {
			err = fmt.Errorf("leased %v from an empty queue", l)
		}
		answered <- err
	}()
	time.Sleep(300 * time.Millisecond)
	cancel()
	if err := <-answered; err != nil {
		t.Errorf("the in-flight request did not finish cleanly: %v", err)
	}
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
	if _, err := http.Get(r.URL() + "/healthz"); err == nil {
		t.Error("the relay still answers after shutdown")
	}
}
