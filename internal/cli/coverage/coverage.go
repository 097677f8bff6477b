// Package coverage is `ppctl coverage`: summarise coverage reports locally
// and upload them to the relay.
package coverage

import (
	"context"
	"net/http"
	"os"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
)

// New returns the `coverage` command.
func New(f *factory.Factory) *cli.Command {
	return newCommand(f, systemDeps())
}

// deps are what the coverage commands take from the machine, injected so
// that tests need no git checkout, no Actions runner and no real waits.
type deps struct {
	// getenv reads the environment (GitHub Actions context, OIDC).
	getenv func(string) string
	// git runs git in the current directory and returns its stdout.
	git func(ctx context.Context, args ...string) ([]byte, error)
	// sleep waits between upload tries; nil sleeps for real.
	sleep func(ctx context.Context, d time.Duration) error
	// oidcHTTP fetches the Actions ID token; nil is a default client.
	oidcHTTP *http.Client
}

func systemDeps() deps {
	return deps{getenv: os.Getenv, git: runGit}
}

func newCommand(f *factory.Factory, d deps) *cli.Command {
	return &cli.Command{
		Name:     "coverage",
		Usage:    "Summarise coverage reports, and upload them to PatchPanda",
		Commands: []*cli.Command{newSummary(f, nil), newUpload(f, d, nil)},
	}
}
