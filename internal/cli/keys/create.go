package keys

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

func newCreate(f *factory.Factory) *cli.Command {
	return &cli.Command{
		Name:  "create",
		Usage: "Create an API key and print it once",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "name", Usage: "what the key is for", Required: true},
			&cli.StringSliceFlag{Name: "scope", Usage: "coverage:write, coverage:read, jobs:read, jobs:write, worker or admin (repeat for more)", Required: true},
			&cli.StringFlag{Name: "expires", Usage: "lifetime such as 30d or 12h (default: never)"},
		}, factory.JSONFlags()...),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			var scopes []patchpanda.Scope
			for _, s := range cmd.StringSlice("scope") {
				sc, err := patchpanda.ParseScope(s)
				if err != nil {
					return err
				}
				scopes = append(scopes, sc)
			}
			c, err := f.Client(cmd)
			if err != nil {
				return err
			}
			res, err := c.CreateKey(ctx, httpapi.CreateKeyRequest{Name: cmd.String("name"), Scopes: scopes, ExpiresIn: cmd.String("expires")})
			if err != nil {
				return err
			}
			if factory.WantsJSON(cmd) {
				return f.PrintJSON(cmd, res)
			}
			// The key alone on stdout so it can be captured; the notice on
			// stderr, where a pipe does not take it.
			fmt.Fprintln(f.IO.Out, res.Key)
			fmt.Fprintf(f.IO.ErrOut, "Created key %d %q (%s). It is shown only this once: store it now.\n", res.APIKey.ID, res.APIKey.Name, res.APIKey.Prefix)
			return nil
		},
	}
}
