package billing

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v3"
	"golang.org/x/term"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// maxKeyInput bounds what is read from standard input for one key.
const maxKeyInput = 64 << 10

func newProviderKeysAdd(f *factory.Factory) *cli.Command {
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
			key, err := readKey(f, cmd.String("provider"))
			if err != nil {
				return err
			}
			c, err := f.Client(cmd)
			if err != nil {
				return err
			}
			k, err := c.AddProviderKey(ctx, id, httpapi.AddProviderKeyRequest{Provider: cmd.String("provider"), Name: cmd.String("name"), Key: key})
			if err != nil {
				return err
			}
			if factory.WantsJSON(cmd) {
				return f.PrintJSON(cmd, k)
			}
			fmt.Fprintf(f.IO.Out, "Stored %s key %d %q (ending …%s) for billing project %d\n", k.Provider, k.ID, k.Name, k.Hint, k.ProjectID)
			return nil
		},
	}
}

// readKey reads one key from standard input: without echo on a terminal,
// whole otherwise.
func readKey(f *factory.Factory, provider string) (string, error) {
	var b []byte
	if file, ok := f.IO.In.(*os.File); ok && f.IO.InTTY && term.IsTerminal(int(file.Fd())) {
		fmt.Fprintf(f.IO.ErrOut, "Paste the %s key (input is hidden): ", provider)
		var err error
		b, err = term.ReadPassword(int(file.Fd()))
		fmt.Fprintln(f.IO.ErrOut)
		if err != nil {
			return "", fmt.Errorf("read key from the terminal: %w", err)
		}
	} else {
		var err error
		if b, err = io.ReadAll(io.LimitReader(f.IO.In, maxKeyInput+1)); err != nil {
			return "", fmt.Errorf("read key from standard input: %w", err)
		}
		if len(b) > maxKeyInput {
			return "", patchpanda.Errorf(patchpanda.EINVALID, "standard input is over %d bytes; pipe in one key", maxKeyInput)
		}
	}
	key := strings.TrimSpace(string(b))
	if key == "" {
		return "", patchpanda.Errorf(patchpanda.EINVALID, "no key on standard input; pipe it in, e.g. ppctl billing provider-keys add ID --provider %s --name NAME < key.txt", provider)
	}
	return key, nil
}
