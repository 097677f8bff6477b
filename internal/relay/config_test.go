package relay

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// defaults is the Config `relay serve` runs with when nothing is set.
func defaults(t *testing.T) Config {
	t.Helper()
	var c Config
	if errs := c.read(func(s setting) string { return s.def }); len(errs) > 0 {
		t.Fatalf("the defaults do not parse: %v", errs)
	}
	return c
}

// Every row of the table reaches Config: set on its own to a value other
// than its default, it changes a field no other row writes, and every
// field of Config is some row's.
func TestEverySettingReachesConfig(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	other := map[string]string{
		"addr":                        "127.0.0.1:9090",
		"database-url":                "sqlite:other.db",
		"queue-backend":               "redis",
		"redis-url":                   "redis://127.0.0.1:6379/1",
		"sqs-queue-url":               "https://sqs.eu-west-1.amazonaws.com/1/jobs",
		"webhook-secret":              "a, b",
		"github-app-id":               "42",
		"github-private-key-file":     file,
		"github-api-url":              "https://ghe.example.com/api/v3/",
		"server-config":               file,
		"secrets-keeper":              "base64key://",
		"actions-oidc-issuer":         "https://issuer.example.com",
		"actions-oidc-audience":       "other",
		"coverage-blob-url":           "file:///var/lib/coverage",
		"coverage-max-upload":         "1GB",
		"coverage-uploads-per-minute": "0",
		"oidc-issuer":                 "https://idp.example.com",
		"oidc-client-id":              "id",
		"oidc-client-secret":          "secret",
		"oidc-redirect-url":           "https://relay.example.com/auth/callback",
		"log-level":                   "debug",
		"log-format":                  "json",
		"delivery-lease":              "3s",
		"job-heartbeat":               "1h",
		"stuck-job-policy":            "fail",
		"redelivery-window":           "72h",
		"redelivery-interval":         "1m",
		"shutdown-timeout":            "5s",
		"github-oauth-client-id":      "Iv1.x",
		"github-oauth-client-secret":  "secret",
		"github-oauth-redirect-url":   "https://relay.example.com/auth/callback",
		"audit-checkpoint-every":      "7",
		"republish-queued-after":      "1h",
		"webhook-max-bytes":           "1MB",
		"webhook-memory":              "1GB",
		"webhook-read-timeout":        "3s",
		"read-header-timeout":         "3s",
		"read-timeout":                "3s",
		"write-timeout":               "3s",
		"idle-timeout":                "3s",
		"max-header-bytes":            "1KB",
		"coverage-upload-timeout":     "1h",
		"auth-failures-per-minute":    "0",
		"long-polls-per-key":          "9",
		"coverage-concurrent-uploads": "9",
		"coverage-max-files":          "5",
		"coverage-max-lines":          "5",
		"coverage-max-xml-depth":      "9",
		"coverage-max-xml-elements":   "5",
		"coverage-max-commit-lines":   "5",
		"no-migrate":                  "true",
	}
	base := defaults(t)
	owners := map[string][]string{} // Config field → the settings that write it
	for _, s := range new(Config).settings() {
		v, ok := other[s.flag]
		if !ok || v == s.def {
			t.Errorf("%s: give the test a valid value other than the default %q", s.env, s.def)
			continue
		}
		var c Config
		if errs := c.read(func(r setting) string {
			if r.flag == s.flag {
				return v
			}
			return r.def
		}); len(errs) > 0 {
			t.Errorf("%s=%q: %v", s.env, v, errs)
			continue
		}
		changed := changedFields(base, c)
		if len(changed) == 0 {
			t.Errorf("%s=%q does not reach Config", s.env, v)
		}
		for _, f := range changed {
			owners[f] = append(owners[f], s.env)
		}
	}
	for _, f := range reflect.VisibleFields(reflect.TypeFor[Config]()) {
		if name := f.Name; len(owners[name]) != 1 {
			t.Errorf("Config.%s is written by %d settings %v, want exactly one", name, len(owners[name]), owners[name])
		}
	}
}

func changedFields(a, b Config) []string {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	var out []string
	for i := range va.NumField() {
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			out = append(out, va.Type().Field(i).Name)
		}
	}
	return out
}

// A Config built in code gets, for what it leaves out, the defaults that
// `relay serve` has with nothing set; what it sets stays.
func TestAConfigBuiltInCodeTakesTheTableDefaults(t *testing.T) {
	got, err := Config{Addr: "127.0.0.1:0", DeliveryLease: 3 * time.Second}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	want := defaults(t)
	want.Addr, want.DeliveryLease = "127.0.0.1:0", 3*time.Second
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("withDefaults (-want +got):\n%s", diff)
	}
}

// docs/configuration.md's tables list exactly the settings of the table,
// each with its flag and, where the setting has one, its default.
func TestTheDocsListExactlyTheSettings(t *testing.T) {
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ flag, def string }
	documented := map[string]row{}
	for _, line := range strings.Split(string(doc), "\n") {
		if !strings.HasPrefix(line, "| `PATCHPANDA_") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		if len(cells) < 4 {
			t.Errorf("docs/configuration.md: a settings row with %d columns: %s", len(cells), line)
			continue
		}
		env := strings.Trim(strings.TrimSpace(cells[0]), "`")
		if _, ok := documented[env]; ok {
			t.Errorf("docs/configuration.md lists %s twice", env)
		}
		documented[env] = row{flag: strings.Trim(strings.TrimSpace(cells[1]), "`"), def: strings.TrimSpace(cells[3])}
	}
	for _, s := range new(Config).settings() {
		d, ok := documented[s.env]
		delete(documented, s.env)
		switch {
		case !ok:
			t.Errorf("docs/configuration.md does not list %s", s.env)
		case d.flag != "--"+s.flag:
			t.Errorf("docs/configuration.md gives %s the flag %s, want --%s", s.env, d.flag, s.flag)
		case s.def != "" && d.def != "`"+s.def+"`":
			t.Errorf("docs/configuration.md gives %s the default %s, want `%s`", s.env, d.def, s.def)
		}
	}
	for env := range documented {
		t.Errorf("docs/configuration.md lists %s, which is not a setting of the relay", env)
	}
}

func TestDefaultsAreWrittenInTheirLargestUnit(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{durationText(time.Minute), "1m"},
		{durationText(72 * time.Hour), "72h"},
		{durationText(15 * time.Second), "15s"},
		{durationText(1500 * time.Millisecond), "1.5s"},
		{durationText(0), "0"},
		{sizeText(256 << 20), "256MB"},
		{sizeText(64 << 10), "64KB"},
		{sizeText(1 << 30), "1GB"},
		{sizeText(1000), "1000"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestUnknownVariablesAreRefusedWithTheNearestSetting(t *testing.T) {
	for _, tc := range []struct {
		name    string
		environ []string
		want    []string
	}{
		{"a misspelt setting", []string{"PATCHPANDA_DATABSE_URL=sqlite:x.db"},
			[]string{"PATCHPANDA_DATABSE_URL is set but is not a setting of the relay (did you mean PATCHPANDA_DATABASE_URL?); unset it, or see docs/configuration.md"}},
		{"a name near none", []string{"PATCHPANDA_COLOUR=blue"},
			[]string{"PATCHPANDA_COLOUR is set but is not a setting of the relay; unset it, or see docs/configuration.md"}},
		{"each unknown once, in order", []string{"PATCHPANDA_WEBHOOK_SECRETS=s", "PATCHPANDA_ADR=:80"},
			[]string{
				"PATCHPANDA_ADR is set but is not a setting of the relay (did you mean PATCHPANDA_ADDR?); unset it, or see docs/configuration.md",
				"PATCHPANDA_WEBHOOK_SECRETS is set but is not a setting of the relay (did you mean PATCHPANDA_WEBHOOK_SECRET?); unset it, or see docs/configuration.md",
			}},
		{"settings, ppctl's variables and the tests' are not refused", []string{
			"PATCHPANDA_ADDR=:80", "PATCHPANDA_NO_MIGRATE=true", "PATCHPANDA_RELAY_URL=http://localhost:8080", "PATCHPANDA_TOKEN=ppk_x",
			"PATCHPANDA_CONFIG_DIR=/tmp/pp", "PATCHPANDA_TEST_POSTGRES_URL=postgres://x", "PATCHPANDA_TEST_ANYTHING=1"}, nil},
		{"an unknown variable set empty is not refused", []string{"PATCHPANDA_DATABSE_URL="}, nil},
		{"other programs' variables are not the relay's business", []string{"PATCHPANDAS=1", "GITHUB_TOKEN=x", "PATH=/bin"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, err := range unknownVariables(tc.environ) {
				got = append(got, err.Error())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("unknownVariables (-want +got):\n%s", diff)
			}
		})
	}
}

// Every PATCHPANDA_ variable this repository's programs, scripts and docs
// name is a setting of the relay or belongs to another program (ppctl, the
// tests), so unknownVariables never refuses one of them.
func TestEveryVariableTheRepositoryNamesIsKnown(t *testing.T) {
	known := map[string]bool{}
	for _, s := range new(Config).settings() {
		known[s.env] = true
	}
	for _, n := range otherPrograms {
		known[n] = true
	}
	name := regexp.MustCompile(`PATCHPANDA_[A-Z0-9_]+`)
	// The files git tracks, not what builds leave beside them (dist/, bin/).
	root := "../.."
	ls := exec.Command("git", "ls-files", "-z")
	ls.Dir = root
	out, err := ls.Output()
	if err != nil {
		t.Skipf("not a git checkout, so the repository's files are unknown: git ls-files: %v", err)
	}
	for _, path := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		ext := filepath.Ext(path)
		if strings.HasSuffix(path, "_test.go") || strings.Contains("/"+path, "/testdata/") ||
			!slices.Contains([]string{".go", ".md", ".sh", ".yml", ".yaml", ""}, ext) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(root, path))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range name.FindAllString(string(b), -1) {
			// PATCHPANDA_OIDC_* names a group, not a variable.
			if !strings.HasSuffix(n, "_") && !strings.HasPrefix(n, testVariablePrefix) && !known[n] {
				t.Errorf("%s names %s, which relay serve would refuse: add it to the settings table or to otherPrograms", path, n)
				known[n] = true // once
			}
		}
	}
}
