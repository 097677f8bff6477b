package relay_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// mountTmpfs mounts a tmpfs of size bytes and returns its directory, or
// skips the test where mounting is not allowed.
func mountTmpfs(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d", size)); err != nil {
		t.Skipf("cannot mount a small tmpfs to fill (needs root): %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

func readyz(t *testing.T, base string) (int, map[string]string) {
	t.Helper()
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Checks map[string]string `json:"checks"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body.Checks
}

func TestReadyzFailsOnAFullDiskAndOnlyStoredDeliveriesAreAcknowledged(t *testing.T) {
	dir := mountTmpfs(t, 48<<20)
	r, _ := start(t, "sqlite:"+filepath.Join(dir, "relay.db"), withSecrets("s3cret"))
	if code, checks := readyz(t, r.URL()); code != http.StatusOK {
		t.Fatalf("readyz on an empty disk = %d %v", code, checks)
	}
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	code, checks := readyz(t, r.URL())
	if code != http.StatusServiceUnavailable || !strings.Contains(checks["database"], "full") {
		t.Errorf("readyz on a full disk = %d %v, want 503 naming the full disk", code, checks)
	}
	// A delivery is acknowledged only when it is stored (SQLite may still
	// fit a small one into log space it already holds); one that cannot
	// be stored gets 503, GitHub shows it failed and the reconciler asks
	// for it again.
	st, body := send(t, r.URL(), delivery{id: "full-1", event: "installation_repositories", secret: "s3cret",
		body: installationPayload(1, "widgets")})
	switch st {
	case http.StatusAccepted:
		if _, err := r.DB.Delivery(context.Background(), 42, "full-1"); err != nil {
			t.Errorf("acknowledged on a full disk but not stored: %v", err)
		}
	case http.StatusServiceUnavailable:
	default:
		t.Errorf("webhook on a full disk = %d %s, want 202 (stored) or 503", st, body)
	}
	f.Close()
	if err := os.Remove(f.Name()); err != nil {
		t.Fatal(err)
	}
	if code, checks := readyz(t, r.URL()); code != http.StatusOK {
		t.Errorf("readyz after space was freed = %d %v", code, checks)
	}
}
