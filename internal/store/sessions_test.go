package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/store"
	"github.com/patchpanda/patchpanda/internal/store/storetest"
)

func TestSessionsAreStoredByHashTouchedAndEnded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		s := store.Session{Subject: "1234", Email: "mona@example.com", Name: "Mona", Login: "mona", Groups: []string{"platform"},
			CSRFToken: "csrf", CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(24 * time.Hour)}
		hash := []byte("0123456789abcdef0123456789abcdef")
		if err := db.CreateSession(ctx, hash, s); err != nil {
			t.Fatal(err)
		}
		got, err := db.SessionByHash(ctx, hash)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(s, got); diff != "" {
			t.Errorf("stored session (-want +got):\n%s", diff)
		}
		if err := db.TouchSession(ctx, hash, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.SessionByHash(ctx, hash); !got.LastSeenAt.Equal(now.Add(time.Hour)) {
			t.Errorf("last seen %v after touch, want %v", got.LastSeenAt, now.Add(time.Hour))
		}
		if n, err := db.DeleteSessionsBefore(ctx, now, now); err != nil || n != 0 {
			t.Errorf("DeleteSessionsBefore removed %d (%v), want a live session kept", n, err)
		}
		if err := db.DeleteSession(ctx, hash); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SessionByHash(ctx, hash); patchpanda.ErrorCode(err) != patchpanda.ENOTFOUND {
			t.Errorf("after delete: %v, want ENOTFOUND", err)
		}
	})
}
