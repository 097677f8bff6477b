package billing

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/iostreams"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// maxKeyInput bounds what is read from standard input for one key.
const maxKeyInput = 64 << 10

// ProviderKeysAddOptions is what `billing provider-keys add` runs with.
// The key itself is read from IO.In when it runs, never from a flag.
type ProviderKeysAddOptions struct {
	IO       *iostreams.IO
	Client   factory.ClientFunc
	Exporter factory.Exporter

	ProjectID int64
	Provider  string
	Name      string
}

func newProviderKeysAdd(f *factory.Factory, runF func(context.Context, *ProviderKeysAddOptions) error) *cli.Command {
	return &cli.Command{
		Name:  "add",
		Usage: "Store a model provider's API key for a billing project, read from standard input",
		Description: "The key is read from standard input, never from a flag or an argument: those are visible\n" +
			"to other users in the process list and are kept in shell history and CI logs. On a terminal\n" +
			"the key is asked for without echo; otherwise pipe it in:\n\n" +
			"   ppctl billing provider-keys add 1 --provider openai --name prod < key.txt",
		ArgsUsage: "ID",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "provider", Usage: "the provider, like openai or anthropic", Required: true},
			&cli.StringFlag{Name: "name", Usage: "what the key is, to tell keys apart", Required: true},
		}, factory.JSONFlags()...),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if err := args(cmd, 1, "provider-keys add ID --provider NAME --name NAME < KEY_FILE"); err != nil {
				return err
			}
			id, err := parseID(cmd.Args().First(), "project id")
			if err != nil {
				return err
			}
			opts := &ProviderKeysAddOptions{IO: f.IO, Client: f.ClientFor(cmd), Exporter: f.ExporterFor(cmd),
				ProjectID: id, Provider: cmd.String("provider"), Name: cmd.String("name")}
			if runF != nil {
				return runF(ctx, opts)
			}
			return providerKeysAddRun(ctx, opts)
		},
	}
}

func providerKeysAddRun(ctx context.Context, opts *ProviderKeysAddOptions) error {
	key, err := readKey(opts.IO, opts.Provider)
	if err != nil {
		return err
	}
	c, err := opts.Client()
	if err != nil {
		return err
	}
	k, err := c.AddProviderKey(ctx, opts.ProjectID, httpapi.AddProviderKeyRequest{Provider: opts.Provider, Name: opts.Name, Key: key})
	if err != nil {
		return err
	}
	if opts.Exporter != nil {
		return opts.Exporter.Write(k)
	}
	fmt.Fprintf(opts.IO.Out, "Stored %s key %d %q (ending …%s) for billing project %d\n", k.Provider, k.ID, k.Name, k.Hint, k.ProjectID)
	return nil
}

// readKey reads one key from standard input: without echo on a terminal,
// whole otherwise.
func readKey(ios *iostreams.IO, provider string) (string, error) {
	key, err := ios.ReadSecret("the key", fmt.Sprintf("Paste the %s key (input is hidden): ", provider), maxKeyInput, false)
	if err == nil && key == "" {
		err = patchpanda.Errorf(patchpanda.EINVALID, "no key on standard input; pipe it in, e.g. ppctl billing provider-keys add ID --provider %s --name NAME < key.txt", provider)
	}
	return key, err
}
