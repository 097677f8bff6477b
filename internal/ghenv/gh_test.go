package ghenv

import (
	"testing"

	"github.com/cli/go-gh/v2/pkg/config"
	"github.com/google/go-cmp/cmp"
)

func TestIsExtension(t *testing.T) {
	tests := []struct {
		program string
		want    bool
	}{
		{"gh-patchpanda", true},
		{"/home/me/.local/share/gh/extensions/gh-patchpanda/gh-patchpanda", true},
		{`C:\gh\extensions\gh-patchpanda\gh-patchpanda.exe`, true},
		{"ppctl", false},
		{"/usr/bin/gh-patchpanda-old", false},
	}
	for _, tc := range tests {
		t.Run(tc.program, func(t *testing.T) {
			if got := IsExtension(tc.program); got != tc.want {
				t.Errorf("IsExtension(%q) = %v, want %v", tc.program, got, tc.want)
			}
		})
	}
}

func TestCurrentGHReadsGhsRepositoryAndToken(t *testing.T) {
	// GH_REPO and GH_TOKEN are how gh itself is told both; an empty config
	// directory keeps the user's own gh setup out of the test.
	t.Setenv("GH_CONFIG_DIR", t.TempDir())
	t.Setenv("GH_HOST", "")
	t.Setenv("GH_REPO", "octo/hello")
	t.Setenv("GH_TOKEN", "gho_test")
	got, err := CurrentGH()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(GH{Repository: "octo/hello", Host: "github.com", Token: "gho_test"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestRelayFromGHConfig(t *testing.T) {
	if got := relayFrom(config.ReadFromString("git_protocol: https\npatchpanda_relay: ' https://relay.example.com '\n")); got != "https://relay.example.com" {
		t.Errorf("set: %q", got)
	}
	if got := relayFrom(config.ReadFromString("git_protocol: https\n")); got != "" {
		t.Errorf("unset: %q", got)
	}
}
