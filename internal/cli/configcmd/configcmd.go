// Package configcmd is `ppctl config`: checking a .testbot.yml with the
// relay's own parser, without a relay.
package configcmd

import (
	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
)

// New returns the `config` command.
func New(f *factory.Factory) *cli.Command {
	return &cli.Command{
		Name:     "config",
		Usage:    "Check .testbot.yml files",
		Commands: []*cli.Command{newValidate(f, nil)},
	}
}
