// Package storetest opens real databases for tests: a fresh SQLite file
// always, and a fresh PostgreSQL database when PATCHPANDA_TEST_POSTGRES_URL
// names a server (see docs/testing.md).
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver for the admin connection

	"github.com/patchpanda/patchpanda/internal/store"
)

// PostgresEnv names the variable holding an admin URL of a PostgreSQL
// server; each test gets its own database on it.
const PostgresEnv = "PATCHPANDA_TEST_POSTGRES_URL"

// SQLite returns a migrated database in a new file under t.TempDir, closed
// when the test ends.
func SQLite(t testing.TB) *store.DB {
	t.Helper()
	return open(t, "sqlite:"+filepath.Join(t.TempDir(), "test.db"))
}

// Postgres returns a migrated database created for this test on the server
// named by PATCHPANDA_TEST_POSTGRES_URL and dropped when the test ends. It
// skips the test when the variable is unset or the server does not answer,
// unless CI=true, where it fails instead.
func Postgres(t testing.TB) *store.DB {
	t.Helper()
	u := PostgresURL(t)
	return open(t, u)
}

// PostgresURL creates a fresh database for this test and returns its URL,
// skipping or failing as Postgres does. The database is dropped at cleanup.
func PostgresURL(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(PostgresEnv)
	if admin == "" {
		Unavailable(t, PostgresEnv+" is not set; see docs/testing.md to run the PostgreSQL tests")
	}
	adminDB, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatalf("storetest: %s: %v", PostgresEnv, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := adminDB.PingContext(ctx); err != nil {
		adminDB.Close()
		Unavailable(t, "PostgreSQL at "+PostgresEnv+" does not answer: "+err.Error())
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "pp_test_" + hex.EncodeToString(b[:])
	if _, err := adminDB.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		adminDB.Close()
		t.Fatalf("storetest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		_, _ = adminDB.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		adminDB.Close()
	})
	pu, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("storetest: %s: %v", PostgresEnv, err)
	}
	pu.Path = "/" + name
	return pu.String()
}

// Each runs fn as a subtest against SQLite and against PostgreSQL; the
// PostgreSQL subtest skips (or fails in CI) as Postgres does.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// Unavailable skips the test with msg, or fails it when CI=true: in CI a
// missing service is a broken set-up, not a reason to pass.
func Unavailable(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("required test service unavailable in CI: %s", msg)
	}
	t.Skip(msg)
}

func open(t testing.TB, u string) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, u)
	if err != nil {
		t.Fatalf("storetest: open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx, nil); err != nil {
		t.Fatalf("storetest: migrate: %v", err)
	}
	return db
}
