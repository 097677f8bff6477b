package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/patchpanda/patchpanda/internal/githubtest"
	"github.com/patchpanda/patchpanda/internal/jobs"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/relay"
	"github.com/patchpanda/patchpanda/internal/store"
)

// TestGHExtensionInstallsAndListsJobs installs ppctl into the real gh as
// gh documents for a local extension (a directory named gh-patchpanda
// holding an executable of that name, `gh extension install .`) and runs
// `gh patchpanda jobs list` against a relay whose GitHub App maps the
// user's GitHub token (GH_TOKEN) to a role through the fake GitHub.
func TestGHExtensionInstallsAndListsJobs(t *testing.T) {
	gh, err := exec.LookPath("gh")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("gh is not installed; .ci/run installs it with apt")
		}
		t.Skip("gh is not installed (apt-get install gh); CI runs this test")
	}
	if runtime.GOOS == "windows" {
		t.Skip("the extension directory holds a Unix executable")
	}
	fake := githubtest.New(t)
	fake.AddUser("gho_alice", githubtest.User{Login: "alice"})
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "app.pem")
	serverConfig := filepath.Join(dir, "server.yml")
	writeFile(t, keyFile, string(fake.PrivateKeyPEM))
	writeFile(t, serverConfig, "rbac:\n  roles:\n    admin:\n      users: [alice]\n")
	ctx, cancel := context.WithCancel(context.Background())
	r, err := relay.Open(ctx, relay.Config{Addr: "127.0.0.1:0", DatabaseURL: "sqlite:" + filepath.Join(dir, "r.db"),
		QueueBackend: "db", GitHubAPIURL: fake.URL(), GitHubAppID: fake.AppID, GitHubPrivateKey: keyFile,
		ServerConfig: serverConfig, WebhookSecrets: []string{"s"}, ShutdownTimeout: 5 * time.Second},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; r.Close() })

	// The extension: this test binary, which is ppctl when PPCTL_TEST_MAIN
	// is set (see TestMain), under the name gh runs.
	ext := filepath.Join(dir, "gh-patchpanda")
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(ext, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ext, "gh-patchpanda"), self, 0o755); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "PPCTL_TEST_MAIN=1", "GH_TOKEN=gho_alice", "GH_CONFIG_DIR="+filepath.Join(dir, "gh-config"),
		"XDG_DATA_HOME="+filepath.Join(dir, "data"), "XDG_STATE_HOME="+filepath.Join(dir, "state"), "XDG_CACHE_HOME="+filepath.Join(dir, "cache"),
		"GH_NO_UPDATE_NOTIFIER=1", "GH_PROMPT_DISABLED=1", "GH_HOST=", "GITHUB_ACTIONS=", "PATCHPANDA_CONFIG_DIR="+filepath.Join(dir, "pp-config"),
		"PATCHPANDA_RELAY_URL=", "PATCHPANDA_TOKEN=")
	run := func(wd string, args ...string) (string, string, error) {
		cmd := exec.Command(gh, args...)
		cmd.Dir, cmd.Env = wd, env
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		return out.String(), errOut.String(), err
	}
	if out, errOut, err := run(ext, "extension", "install", "."); err != nil {
		t.Fatalf("gh extension install .: %v\n%s%s", err, out, errOut)
	}
	if out, _, err := run(dir, "extension", "list"); err != nil || !strings.Contains(out, "patchpanda") {
		t.Fatalf("gh extension list: %v\n%s", err, out)
	}

	// A job to list, enqueued as a comment would.
	j := &patchpanda.Job{Repository: patchpanda.Repository{Owner: "acme", Name: "widgets", ID: 7001}, InstallationID: 7,
		PullRequest: patchpanda.PullRequest{Number: 7, HeadSHA: strings.Repeat("a", 40), BaseSHA: strings.Repeat("b", 40)},
		RequestedBy: "alice", Trigger: patchpanda.TriggerComment, CreatedAt: time.Now()}
	if err := r.DB.InTx(context.Background(), func(q *store.Queries) error {
		_, err := jobs.Enqueue(context.Background(), q, j, 0, "test")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := run(dir, "patchpanda", "--relay", r.URL(), "jobs", "list", "--json")
	if err != nil {
		t.Fatalf("gh patchpanda jobs list: %v\nstdout %s\nstderr %s", err, out, errOut)
	}
	var list []patchpanda.Job
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("gh patchpanda jobs list --json printed %q: %v", out, err)
	}
	if len(list) != 1 || list[0].ID != j.ID {
		t.Errorf("gh patchpanda jobs list = %+v, want the job %s", list, j.ID)
	}
	// Without a relay named, the extension refuses before sending the
	// token anywhere.
	_, errOut, err = run(dir, "patchpanda", "jobs", "list")
	if err == nil || !strings.Contains(errOut, "no relay configured") {
		t.Errorf("gh patchpanda without a relay: %v, stderr %q", err, errOut)
	}
}
