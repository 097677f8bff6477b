// Package keys is `ppctl keys`: create, list and revoke API keys.
package keys

import (
	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
)

// New returns the `keys` command.
func New(f *factory.Factory) *cli.Command {
	return &cli.Command{
		Name:     "keys",
		Usage:    "Manage API keys (needs an admin key)",
		Commands: []*cli.Command{newCreate(f, nil), newList(f, nil), newRevoke(f, nil)},
	}
}
