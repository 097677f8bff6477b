package relay_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/patchpanda/patchpanda/internal/relay"
)

func TestServeRejectsBadSettingsWithOneLineEach(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"unsupported database", map[string]string{"PATCHPANDA_DATABASE_URL": "mysql://x"},
			`relay: PATCHPANDA_DATABASE_URL (--database-url): scheme "mysql" is not supported`},
		{"missing key file", map[string]string{"PATCHPANDA_GITHUB_APP_ID": "1", "PATCHPANDA_GITHUB_PRIVATE_KEY_FILE": filepath.Join(dir, "nope.pem")},
			"relay: PATCHPANDA_GITHUB_PRIVATE_KEY_FILE (--github-private-key-file): file " + filepath.Join(dir, "nope.pem") + " does not exist"},
		{"key file is a directory", map[string]string{"PATCHPANDA_GITHUB_APP_ID": "1", "PATCHPANDA_GITHUB_PRIVATE_KEY_FILE": dir},
			"is a directory"},
		{"unknown queue", map[string]string{"PATCHPANDA_QUEUE_BACKEND": "kafka"},
			`"kafka" is not one of db, redis, sqs`},
		{"redis without url", map[string]string{"PATCHPANDA_QUEUE_BACKEND": "redis"},
			"PATCHPANDA_REDIS_URL (--redis-url): required"},
		{"bad app id", map[string]string{"PATCHPANDA_GITHUB_APP_ID": "abc"},
			`PATCHPANDA_GITHUB_APP_ID (--github-app-id): "abc" is not a positive number`},
		{"bad address", map[string]string{"PATCHPANDA_ADDR": "8080"}, `"8080" is not host:port`},
		{"half of GitHub sign-in", map[string]string{"PATCHPANDA_GITHUB_OAUTH_CLIENT_ID": "Iv1.x"},
			"sign-in with GitHub needs all of PATCHPANDA_GITHUB_OAUTH_CLIENT_ID, _CLIENT_SECRET and _REDIRECT_URL"},
		{"lease too short", map[string]string{"PATCHPANDA_DELIVERY_LEASE": "500ms"},
			`PATCHPANDA_DELIVERY_LEASE (--delivery-lease): "500ms" is not a duration of at least 1s`},
		{"window past GitHub's three days", map[string]string{"PATCHPANDA_REDELIVERY_WINDOW": "100h"},
			`PATCHPANDA_REDELIVERY_WINDOW (--redelivery-window): "100h" is not a duration between 0 and 72h`},
		{"size without a number", map[string]string{"PATCHPANDA_COVERAGE_MAX_UPLOAD": "lots"},
			`PATCHPANDA_COVERAGE_MAX_UPLOAD (--coverage-max-upload): "lots" is not a size such as 25MB`},
		{"checkpoint every 0 events", map[string]string{"PATCHPANDA_AUDIT_CHECKPOINT_EVERY": "0"},
			`PATCHPANDA_AUDIT_CHECKPOINT_EVERY (--audit-checkpoint-every): "0" is not a whole number between 1 and 1000000`},
		{"negative limit", map[string]string{"PATCHPANDA_LONG_POLLS_PER_KEY": "-1"},
			`PATCHPANDA_LONG_POLLS_PER_KEY (--long-polls-per-key): "-1" is not a whole number of 0 or more`},
		{"unknown policy", map[string]string{"PATCHPANDA_STUCK_JOB_POLICY": "drop"},
			`PATCHPANDA_STUCK_JOB_POLICY (--stuck-job-policy): "drop" is not requeue or fail`},
		{"a misspelt setting", map[string]string{"PATCHPANDA_DELIVERY_LEASES": "3s"},
			"relay: PATCHPANDA_DELIVERY_LEASES is set but is not a setting of the relay (did you mean PATCHPANDA_DELIVERY_LEASE?)"},
		{"GitHub sign-in without the App", map[string]string{"PATCHPANDA_GITHUB_OAUTH_CLIENT_ID": "Iv1.x",
			"PATCHPANDA_GITHUB_OAUTH_CLIENT_SECRET": "s", "PATCHPANDA_GITHUB_OAUTH_REDIRECT_URL": "https://relay.example/auth/callback"},
			"sign-in with GitHub needs the GitHub App"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PATCHPANDA_DATABASE_URL", "sqlite:"+filepath.Join(t.TempDir(), "x.db"))
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var out, errOut bytes.Buffer
			code := relay.Main(context.Background(), []string{"relay", "serve"}, &out, &errOut)
			if code == 0 {
				t.Fatal("exit code 0, want non-zero")
			}
			lines := strings.Split(strings.TrimSpace(errOut.String()), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], tt.want) {
				t.Errorf("stderr = %q, want one line containing %q", errOut.String(), tt.want)
			}
		})
	}
}

// relay migrate, like serve, refuses a PATCHPANDA_ variable that is no
// setting, and takes those of ppctl and the tests.
func TestMigrateRefusesAVariableThatIsNoSetting(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "x.db")
	for k, v := range map[string]string{"PATCHPANDA_RELAY_URL": "http://localhost:8080", "PATCHPANDA_TOKEN": "ppk_x",
		"PATCHPANDA_CONFIG_DIR": t.TempDir(), "PATCHPANDA_TEST_SOMETHING": "1"} {
		t.Setenv(k, v)
	}
	var out, errOut bytes.Buffer
	if code := relay.Main(context.Background(), []string{"relay", "migrate", "--database-url", db}, &out, &errOut); code != 0 {
		t.Fatalf("with ppctl's and the tests' variables: exit %d: %s", code, errOut.String())
	}
	t.Setenv("PATCHPANDA_DATABSE_URL", db)
	errOut.Reset()
	if code := relay.Main(context.Background(), []string{"relay", "migrate", "--database-url", db}, &out, &errOut); code == 0 ||
		!strings.Contains(errOut.String(), "PATCHPANDA_DATABSE_URL is set but is not a setting of the relay (did you mean PATCHPANDA_DATABASE_URL?)") {
		t.Errorf("with PATCHPANDA_DATABSE_URL: exit %d, stderr %q", code, errOut.String())
	}
}

func TestAdminKeyCreatePrintsTheKeyOnce(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "x.db")
	var out, errOut bytes.Buffer
	if code := relay.Main(context.Background(), []string{"relay", "admin-key", "create", "--database-url", db}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	key := strings.TrimSpace(out.String())
	if !strings.HasPrefix(key, "ppk_") || strings.Contains(errOut.String(), key) {
		t.Fatalf("stdout %q, stderr %q", out.String(), errOut.String())
	}
	b, _ := os.ReadFile(strings.TrimPrefix(db, "sqlite:"))
	if bytes.Contains(b, []byte(key)) {
		t.Fatal("plaintext key stored in the database")
	}
}

func TestMigrateCommand(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "x.db")
	var out, errOut bytes.Buffer
	if code := relay.Main(context.Background(), []string{"relay", "migrate", "--database-url", db}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	// Every migration in migrations/ is applied to a new database; the
	// count grows as migrations are added.
	if !regexp.MustCompile(`^applied [1-9][0-9]* migration`).MatchString(out.String()) {
		t.Errorf("stdout = %q", out.String())
	}
}
