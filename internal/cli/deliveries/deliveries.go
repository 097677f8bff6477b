// Package deliveries is `ppctl deliveries`: list the webhook deliveries
// the relay recorded and retry the ones that failed. Each verb has its own
// file.
package deliveries

import (
	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
)

// New returns the `deliveries` command and its verbs.
func New(f *factory.Factory) *cli.Command {
	return &cli.Command{
		Name:     "deliveries",
		Usage:    "List recorded webhook deliveries and retry failed ones (needs admin)",
		Commands: []*cli.Command{newList(f, nil), newRetry(f, nil)},
	}
}
