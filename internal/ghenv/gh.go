package ghenv

import (
	"fmt"
	"strings"

	"github.com/cli/go-gh/v2/pkg/auth"
	"github.com/cli/go-gh/v2/pkg/config"
	"github.com/cli/go-gh/v2/pkg/repository"
)

// ExtensionName is the binary name under which gh runs ppctl as
// `gh patchpanda`.
const ExtensionName = "gh-patchpanda"

// IsExtension reports whether program (os.Args[0]) is the gh extension
// binary, gh-patchpanda (gh-patchpanda.exe on Windows).
func IsExtension(program string) bool {
	// Both separators, so that a Windows path reads the same everywhere.
	base := strings.ToLower(program[strings.LastIndexAny(program, `/\`)+1:])
	return strings.TrimSuffix(base, ".exe") == ExtensionName
}

// GH is what the gh CLI knows about the current directory and its user.
type GH struct {
	// Repository is the current repository as OWNER/NAME, from GH_REPO or
	// the git remotes, as gh's own commands choose it.
	Repository string
	// Host is the GitHub host of Repository, or gh's default host.
	Host string
	// Token is the user's gh token for Host ("" when not logged in).
	// Never print it.
	Token string
}

// CurrentGH returns the current repository and the user's gh token for its
// host. When the repository cannot be determined (not a git checkout, no
// GitHub remote) it still returns gh's default host and its token, together
// with an error saying why Repository is empty; callers that only need the
// token may ignore that error.
func CurrentGH() (GH, error) {
	var gh GH
	r, repoErr := repository.Current()
	if repoErr == nil {
		gh.Repository = r.Owner + "/" + r.Name
		gh.Host = r.Host
	}
	if gh.Host == "" {
		gh.Host, _ = auth.DefaultHost()
	}
	gh.Token, _ = auth.TokenForHost(gh.Host)
	if repoErr != nil {
		return gh, fmt.Errorf("ghenv: current repository: %w", repoErr)
	}
	return gh, nil
}

// RelayConfigKey is the gh config key holding the relay's URL for
// `gh patchpanda`: `gh config set patchpanda_relay https://relay.example.com`.
const RelayConfigKey = "patchpanda_relay"

// RelayFromGHConfig returns the relay URL set in gh's config, or "" when
// none is set or gh's config cannot be read.
func RelayFromGHConfig() string {
	cfg, err := config.Read(nil)
	if err != nil {
		return ""
	}
	return relayFrom(cfg)
}

func relayFrom(cfg *config.Config) string {
	v, err := cfg.Get([]string{RelayConfigKey})
	if err != nil {
		return ""
	}
	return strings.TrimSpace(v)
}
