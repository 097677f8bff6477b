package cli_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/patchpanda/patchpanda/internal/cli"
	"github.com/patchpanda/patchpanda/internal/iostreams"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/relay"
)

func startRelay(t *testing.T) *relay.Relay {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r, err := relay.Open(ctx, relay.Config{Addr: "127.0.0.1:0", DatabaseURL: "sqlite:" + filepath.Join(t.TempDir(), "r.db"),
		QueueBackend: "db", GitHubAPIURL: "https://api.github.com", ShutdownTimeout: 5 * time.Second},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; r.Close() })
	return r
}

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	io, _, out, errOut := iostreams.Test()
	code = cli.Main(context.Background(), append([]string{"ppctl"}, args...), io)
	return code, out.String(), errOut.String()
}

func TestKeysCommandsAgainstARelay(t *testing.T) {
	r := startRelay(t)
	_, admin, err := r.Keys.Create(context.Background(), "admin", []patchpanda.Scope{patchpanda.ScopeAdmin}, 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	g := []string{"--relay", r.URL(), "--token", admin}

	code, out, errOut := run(t, append(g, "keys", "create", "--name", "ci", "--scope", "coverage:write", "--expires", "30d")...)
	if code != 0 {
		t.Fatalf("create: exit %d: %s", code, errOut)
	}
	newKey := strings.TrimSpace(out)
	if !strings.HasPrefix(newKey, "ppk_") || !strings.Contains(errOut, "shown only this once") {
		t.Fatalf("create printed %q / %q", out, errOut)
	}

	code, out, _ = run(t, append(g, "keys", "list")...)
	if code != 0 || !strings.Contains(out, "ci\t") || !strings.Contains(out, "coverage:write") {
		t.Fatalf("list (piped) = %d %q", code, out)
	}
	if strings.Contains(out, newKey) {
		t.Fatal("list shows a whole key")
	}

	code, out, _ = run(t, append(g, "keys", "list", "--jq", ".[] | select(.name == \"ci\") | .scopes[0]")...)
	if code != 0 || strings.TrimSpace(out) != "coverage:write" {
		t.Fatalf("list --jq = %d %q", code, out)
	}

	code, _, errOut = run(t, append(g, "keys", "revoke", "2")...)
	if code != 1 || !strings.Contains(errOut, "--yes") {
		t.Fatalf("revoke without --yes off a terminal = %d %q", code, errOut)
	}
	code, out, _ = run(t, append(g, "keys", "revoke", "2", "--yes")...)
	if code != 0 || !strings.Contains(out, "Revoked key 2") {
		t.Fatalf("revoke = %d %q", code, out)
	}

	code, _, errOut = run(t, "--relay", r.URL(), "--token", newKey, "keys", "list")
	if code != cli.ExitAuth || !strings.Contains(errOut, "revoked") {
		t.Fatalf("revoked key: exit %d %q, want %d", code, errOut, cli.ExitAuth)
	}
	code, _, errOut = run(t, "--relay", r.URL(), "keys", "list")
	if code != cli.ExitAuth {
		t.Fatalf("no key: exit %d %q, want %d", code, errOut, cli.ExitAuth)
	}
}

func TestVersionAndBadRelay(t *testing.T) {
	if code, out, _ := run(t, "version"); code != 0 || !strings.HasPrefix(out, "ppctl version ") {
		t.Fatalf("version = %d %q", code, out)
	}
	if code, _, errOut := run(t, "--relay", "localhost:8080", "keys", "list"); code != 1 || !strings.Contains(errOut, "not an http(s) URL") {
		t.Fatalf("bad relay = %d %q", code, errOut)
	}
}

// TestVersionAnswersTheSameWithoutTheCommandTree checks that `ppctl
// version`, answered before the command tree is built, prints what the
// tree's version command prints when global flags send it there.
func TestVersionAnswersTheSameWithoutTheCommandTree(t *testing.T) {
	for _, args := range [][]string{
		{"version"},
		{"--relay", "http://127.0.0.1:1", "version"},
		{"--token", "ppk_unused", "version"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, out, errOut := run(t, args...)
			if want := "ppctl version " + cli.Version + "\n"; code != cli.ExitOK || out != want || errOut != "" {
				t.Errorf("ppctl %v = exit %d, stdout %q, stderr %q; want exit 0 and %q", args, code, out, errOut, want)
			}
		})
	}
}

func TestInstantIsOnlyABareVersion(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want bool
	}{
		{[]string{"ppctl", "version"}, true},
		{[]string{"/usr/local/bin/gh-patchpanda", "version"}, true},
		{[]string{"ppctl"}, false},
		{[]string{"ppctl", "version", "--help"}, false},
		{[]string{"ppctl", "--relay", "http://127.0.0.1:1", "version"}, false},
		{[]string{"ppctl", "jobs", "watch"}, false},
	} {
		if got := cli.Instant(tt.args); got != tt.want {
			t.Errorf("Instant(%q) = %v, want %v", tt.args, got, tt.want)
		}
	}
}
