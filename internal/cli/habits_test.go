package cli_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/patchpanda/patchpanda/internal/cli"
	"github.com/patchpanda/patchpanda/internal/iostreams"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// isolate points ppctl's stored login and gh's config at empty temporary
// directories, so that no test reads the machine's own.
func isolate(t *testing.T) (configDir string) {
	t.Helper()
	configDir = t.TempDir()
	t.Setenv("PATCHPANDA_CONFIG_DIR", configDir)
	t.Setenv("GH_CONFIG_DIR", t.TempDir())
	t.Setenv("PATCHPANDA_RELAY_URL", "")
	t.Setenv("PATCHPANDA_TOKEN", "")
	t.Setenv("GH_TOKEN", "")
	t.Setenv("GITHUB_TOKEN", "")
	t.Setenv("GH_HOST", "")
	t.Setenv("GITHUB_ACTIONS", "")
	os.Unsetenv("PATCHPANDA_RELAY_URL")
	os.Unsetenv("PATCHPANDA_TOKEN")
	return configDir
}

func runAs(t *testing.T, program, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	io, in, out, errOut := iostreams.Test()
	in.WriteString(stdin)
	code = cli.Main(context.Background(), append([]string{program}, args...), io)
	return code, out.String(), errOut.String()
}

func TestUsageMistakesSuggestAndPrintOnce(t *testing.T) {
	isolate(t)
	tests := []struct {
		name  string
		args  []string
		wants []string
	}{
		{"an unknown command suggests the close one", []string{"job", "list"}, []string{`unknown command "job" for "ppctl"`, "Did you mean this?\n\tjobs", "Usage: ppctl <command> [flags]"}},
		{"an unknown subcommand suggests the close one", []string{"jobs", "lst"}, []string{`unknown command "lst" for "ppctl jobs"`, "\tlist", "Run 'ppctl jobs --help'"}},
		{"an unknown flag suggests the close one", []string{"jobs", "list", "--stat", "queued"}, []string{"unknown flag --stat", "\t--state", "Usage: ppctl jobs list [flags]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runAs(t, "ppctl", "", tt.args...)
			if code != 1 || out != "" {
				t.Errorf("exit %d, stdout %q", code, out)
			}
			for _, w := range tt.wants {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			if strings.Count(errOut, "error:") != 1 || strings.Contains(errOut, "GLOBAL OPTIONS") {
				t.Errorf("want the error once and no full help:\n%s", errOut)
			}
		})
	}
}

func TestCompletionScripts(t *testing.T) {
	isolate(t)
	for _, shell := range []string{"bash", "zsh", "fish"} {
		code, out, errOut := runAs(t, "ppctl", "", "completion", shell)
		if code != 0 || !strings.Contains(out, "ppctl") || len(out) < 200 {
			t.Errorf("completion %s: exit %d, %d bytes, stderr %q", shell, code, len(out), errOut)
		}
	}
}

func TestHelpNamesTheProgramAsRun(t *testing.T) {
	isolate(t)
	_, out, _ := runAs(t, "/usr/libexec/gh-patchpanda", "", "--help")
	if !strings.Contains(out, "gh patchpanda - ") || strings.Contains(out, "ppctl -") {
		t.Errorf("help as gh patchpanda:\n%s", out)
	}
}

func TestAuthLoginStatusLogout(t *testing.T) {
	dir := isolate(t)
	r := startRelay(t)
	_, key, err := r.Keys.Create(context.Background(), "admin", []patchpanda.Scope{patchpanda.ScopeAdmin}, 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runAs(t, "ppctl", "not-a-key\n", "--relay", r.URL(), "auth", "login", "--with-token"); code != 1 || !strings.Contains(errOut, "not an API key") {
		t.Fatalf("login with a bad key: exit %d %q", code, errOut)
	}
	code, _, errOut := runAs(t, "ppctl", key+"\n", "--relay", r.URL(), "auth", "login", "--with-token")
	if code != 0 || !strings.Contains(errOut, "Logged in to "+r.URL()) || strings.Contains(errOut, key) {
		t.Fatalf("login: exit %d %q", code, errOut)
	}
	st, err := os.Stat(filepath.Join(dir, "credentials.json"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v, mode %v, want 0600", err, st.Mode())
	}
	// Later commands need neither --relay nor --token.
	if code, out, errOut := runAs(t, "ppctl", "", "keys", "list", "--jq", ".[0].name"); code != 0 || out != "admin\n" {
		t.Fatalf("keys list after login: exit %d %q %q", code, out, errOut)
	}
	code, out, _ := runAs(t, "ppctl", "", "auth", "status")
	if code != 0 || !strings.Contains(out, "Relay:      "+r.URL()+" (from auth login)") || !strings.Contains(out, "API key ppk_") ||
		!strings.Contains(out, "Reachable:  yes") || strings.Contains(out, key) {
		t.Fatalf("status: exit %d\n%s", code, out)
	}
	if code, _, errOut := runAs(t, "ppctl", "", "auth", "logout"); code != 0 || !strings.Contains(errOut, "Logged out") {
		t.Fatalf("logout: exit %d %q", code, errOut)
	}
	if code, out, _ := runAs(t, "ppctl", "", "--relay", r.URL(), "auth", "status"); code != cli.ExitAuth || !strings.Contains(out, "Credential: none") {
		t.Fatalf("status after logout: exit %d\n%s", code, out)
	}
}

func TestErrorsFromTheRelayNameIt(t *testing.T) {
	isolate(t)
	r := startRelay(t)
	code, _, errOut := runAs(t, "ppctl", "", "--relay", r.URL(), "--token", "ppk_nope", "keys", "list")
	if code != cli.ExitAuth || !strings.Contains(errOut, "the relay at "+r.URL()+" answered: ") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	// A mistake found before any request is ppctl's own.
	_, _, errOut = runAs(t, "ppctl", "", "--relay", r.URL(), "jobs", "list", "--limit", "0")
	if strings.Contains(errOut, "answered") {
		t.Errorf("a local error is blamed on the relay: %q", errOut)
	}
}

// tokenSpy is a relay stand-in that records every Authorization header.
type tokenSpy struct {
	mu   sync.Mutex
	seen []string
}

func (s *tokenSpy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.seen = append(s.seen, r.Header.Get("Authorization"))
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = w.Write([]byte(`{"error":{"code":"unauthorized","message":"API key must start with \"ppk_\""}}`))
}

func TestTheExtensionNeverLeaksTheGitHubToken(t *testing.T) {
	isolate(t)
	t.Setenv("GH_TOKEN", "gho_secret0123456789")
	const ext = "/home/u/.local/share/gh/extensions/gh-patchpanda/gh-patchpanda"

	t.Run("no relay configured: nothing is sent and the error says how to name one", func(t *testing.T) {
		code, _, errOut := runAs(t, ext, "", "jobs", "list")
		if code != 1 || !strings.Contains(errOut, "no relay configured") || !strings.Contains(errOut, "gh patchpanda auth login --relay URL") {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
	})
	t.Run("plain http to another host is refused before any request", func(t *testing.T) {
		code, _, errOut := runAs(t, ext, "", "--relay", "http://relay.example.com", "jobs", "list")
		if code != 1 || !strings.Contains(errOut, "refusing to send a GitHub token to http://relay.example.com over plain http") {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
	})
	t.Run("a GitHub token passed with --token obeys the same rule", func(t *testing.T) {
		code, _, errOut := runAs(t, "ppctl", "", "--relay", "http://relay.example.com", "--token", "ghp_abc", "jobs", "list")
		if code != 1 || !strings.Contains(errOut, "refusing to send a GitHub token") {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
	})
	t.Run("plain http to this machine is allowed, and a relay without an App says it takes no GitHub tokens", func(t *testing.T) {
		spy := &tokenSpy{}
		srv := httptest.NewServer(spy)
		defer srv.Close()
		code, _, errOut := runAs(t, ext, "", "--relay", srv.URL, "jobs", "list")
		if code != cli.ExitAuth || !strings.Contains(errOut, "the relay at "+srv.URL+" does not accept GitHub tokens") || strings.Contains(errOut, "ppk_") {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
		spy.mu.Lock()
		defer spy.mu.Unlock()
		if len(spy.seen) != 1 || spy.seen[0] != "Bearer gho_secret0123456789" {
			t.Errorf("the loopback relay saw %q", spy.seen)
		}
	})
	t.Run("plain ppctl keeps its localhost default and sends no GitHub token", func(t *testing.T) {
		// Whether something listens there or not, status names it.
		_, out, _ := runAs(t, "ppctl", "", "auth", "status")
		if !strings.Contains(out, "http://localhost:8080 (from default)") || !strings.Contains(out, "Credential: none") {
			t.Errorf("status:\n%s", out)
		}
	})
}

func TestAFailureInActionsIsAnErrorAnnotation(t *testing.T) {
	isolate(t)
	t.Setenv("GITHUB_ACTIONS", "true")
	code, out, _ := runAs(t, "ppctl", "", "--relay", "http://127.0.0.1:1", "jobs", "list", "--limit", "0")
	if code != 1 || !strings.Contains(out, "::error title=PatchPanda::--limit 0 must be between 1 and 500") {
		t.Errorf("exit %d, stdout %q", code, out)
	}
}
