package keys

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/iostreams"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// CreateOptions is what `keys create` runs with.
type CreateOptions struct {
	IO       *iostreams.IO
	Client   factory.ClientFunc
	Exporter factory.Exporter

	Name    string
	Scopes  []patchpanda.Scope
	Expires string
}

func newCreate(f *factory.Factory, runF func(context.Context, *CreateOptions) error) *cli.Command {
	return &cli.Command{
		Name:  "create",
		Usage: "Create an API key and print it once",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "name", Usage: "what the key is for", Required: true},
			&cli.StringSliceFlag{Name: "scope", Usage: "coverage:write, coverage:read, jobs:read, jobs:write, worker or admin (repeat for more)", Required: true},
			&cli.StringFlag{Name: "expires", Usage: "lifetime such as 30d or 12h (default: never)"},
		}, factory.JSONFlags()...),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			opts := &CreateOptions{IO: f.IO, Client: f.ClientFor(cmd), Exporter: f.ExporterFor(cmd),
				Name: cmd.String("name"), Expires: cmd.String("expires")}
			for _, s := range cmd.StringSlice("scope") {
				sc, err := patchpanda.ParseScope(s)
				if err != nil {
					return err
				}
				opts.Scopes = append(opts.Scopes, sc)
			}
			if runF != nil {
				return runF(ctx, opts)
			}
			return createRun(ctx, opts)
		},
	}
}

func createRun(ctx context.Context, opts *CreateOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	res, err := c.CreateKey(ctx, httpapi.CreateKeyRequest{Name: opts.Name, Scopes: opts.Scopes, ExpiresIn: opts.Expires})
	if err != nil {
		return err
	}
	if opts.Exporter != nil {
		return opts.Exporter.Write(res)
	}
	// The key alone on stdout so it can be captured; the notice on
	// stderr, where a pipe does not take it.
	fmt.Fprintln(opts.IO.Out, res.Key)
	fmt.Fprintf(opts.IO.ErrOut, "Created key %d %q (%s). It is shown only this once: store it now.\n", res.APIKey.ID, res.APIKey.Name, res.APIKey.Prefix)
	return nil
}
