package audit

import (
	"context"
	"errors"
	"fmt"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/audit"
	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// Verification is what `ppctl audit verify --json` prints.
type Verification struct {
	Verified bool `json:"verified"`
	// Events is how many events were checked and found linked.
	Events int    `json:"events"`
	Error  string `json:"error,omitempty"`
}

func newVerify(f *factory.Factory) *cli.Command {
	return &cli.Command{
		Name:  "verify",
		Usage: "Fetch every audit event and verify the hash chain; exit 1 at the first broken event",
		Flags: factory.JSONFlags(),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if cmd.NArg() != 0 {
				return patchpanda.Errorf(patchpanda.EINVALID, "usage: ppctl audit verify")
			}
			c, err := f.Client(cmd)
			if err != nil {
				return err
			}
			prev, n := audit.Genesis, 0
			var broken error
			err = each(ctx, c, patchpanda.AuditFilter{}, func(page []patchpanda.AuditEvent) error {
				for _, ev := range page {
					next, err := audit.Verify([]patchpanda.AuditEvent{ev}, prev)
					if err != nil {
						broken = err
						return errStop
					}
					prev = next
					n++
				}
				return nil
			})
			if err != nil && err != errStop {
				return err
			}
			res := Verification{Verified: broken == nil, Events: n}
			if broken != nil {
				res.Error = broken.Error()
			}
			if factory.WantsJSON(cmd) {
				if err := f.PrintJSON(cmd, res); err != nil {
					return err
				}
			} else if broken == nil {
				fmt.Fprintf(f.IO.Out, "audit chain verified: %d events\n", n)
			}
			if broken != nil {
				return fmt.Errorf("audit chain is broken after %d good events: %w", n, broken)
			}
			return nil
		},
	}
}

// errStop ends the paging once the chain is found broken.
var errStop = errors.New("stop")
