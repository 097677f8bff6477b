// Package apitest starts the relay's HTTP API (the key, audit and billing
// routes) over a real database with an admin key, for tests of the API and
// of ppctl commands run against it (Env.Run).
package apitest

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"

	"github.com/patchpanda/patchpanda/internal/billing"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/keys"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/secrets"
	"github.com/patchpanda/patchpanda/internal/store"
	"github.com/patchpanda/patchpanda/internal/store/storetest"
)

// Env is a running API with its database and an admin key.
type Env struct {
	URL     string
	DB      *store.DB
	Billing *billing.Service
	Keys    *keys.Service
	// Admin is the plaintext of an admin API key.
	Admin string
	// Logs holds everything the server logged.
	Logs *Buffer
}

// Start serves the key, audit and billing routes over db (a fresh SQLite
// database when nil) with a local secrets key beside it, and an admin key,
// all closed when the test ends.
func Start(t testing.TB, db *store.DB) *Env {
	t.Helper()
	if db == nil {
		db = storetest.SQLite(t)
	}
	keyPath := secrets.DefaultKeyPath(db.Path())
	if keyPath == "" {
		keyPath = filepath.Join(t.TempDir(), "secrets.key")
	}
	keeper, err := secrets.Open(context.Background(), "", keyPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { keeper.Close() })
	env := &Env{DB: db, Billing: billing.NewService(db, keeper), Keys: keys.NewService(db), Logs: &Buffer{}}
	logger := slog.New(slog.NewTextHandler(env.Logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	api := &httpapi.Server{Logger: logger, Auth: env.Keys, Keys: env.Keys, Audit: db,
		Routes: []func(*http.ServeMux, *httpapi.Server){httpapi.BillingRoutes(env.Billing)}}
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	env.URL = srv.URL
	if _, env.Admin, err = env.Keys.Create(context.Background(), "admin", []patchpanda.Scope{patchpanda.ScopeAdmin}, 0, "apitest"); err != nil {
		t.Fatal(err)
	}
	return env
}

// Client returns a client of the API with the admin key.
func (e *Env) Client() *httpapi.Client { return httpapi.NewClient(e.URL, e.Admin) }

// Buffer is a log sink safe for concurrent writers.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p; it never fails.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
