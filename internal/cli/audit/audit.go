// Package audit is `ppctl audit`: list audit events and verify their hash
// chain (admin key needed).
package audit

import (
	"context"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// New returns the `audit` command.
func New(f *factory.Factory) *cli.Command {
	return &cli.Command{
		Name:     "audit",
		Usage:    "List audit events and verify their hash chain (needs an admin key)",
		Commands: []*cli.Command{newList(f, nil), newVerify(f, nil)},
	}
}

// pageSize is the most events the relay answers in one page.
const pageSize = 1000

// each calls fn with every page of events matching filter, oldest first.
func each(ctx context.Context, c *httpapi.Client, filter patchpanda.AuditFilter, fn func([]patchpanda.AuditEvent) error) error {
	filter.Limit = pageSize
	for {
		page, err := c.AuditEvents(ctx, filter)
		if err != nil {
			return err
		}
		if err := fn(page.Events); err != nil {
			return err
		}
		if page.Next == 0 {
			return nil
		}
		if page.Next <= filter.AfterID {
			return patchpanda.Errorf(patchpanda.EINTERNAL, "the relay's audit pages do not advance (next %d after %d)", page.Next, filter.AfterID)
		}
		filter.AfterID = page.Next
	}
}
