package authcmd

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v3"
	"golang.org/x/term"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// keyPrefix starts every PatchPanda API key (keys.Prefix).
const keyPrefix = "ppk_"

// maxTokenInput bounds what login reads from standard input.
const maxTokenInput = 4 << 10

// New returns the `auth` command.
func New(f *factory.Factory) *cli.Command {
	return &cli.Command{
		Name:  "auth",
		Usage: "Keep the relay's URL and an API key for later commands",
		Commands: []*cli.Command{
			{
				Name:  "login",
				Usage: "Store a relay URL and an API key (read from standard input, or asked for on a terminal)",
				Description: "The relay comes from --relay (or PATCHPANDA_RELAY_URL). The key is checked for\n" +
					"its form and the relay for an answer, then both are written to the user's\n" +
					"config directory, readable by the user alone:\n\n" +
					"   echo \"$KEY\" | ppctl auth login --relay https://relay.example.com --with-token",
				Flags:  []cli.Flag{&cli.BoolFlag{Name: "with-token", Usage: "read the API key from standard input"}},
				Action: func(ctx context.Context, cmd *cli.Command) error { return login(ctx, f, cmd) },
			},
			{
				Name:   "status",
				Usage:  "Say which relay and credential commands use, and whether the relay answers",
				Action: func(ctx context.Context, cmd *cli.Command) error { return status(ctx, f, cmd) },
			},
			{
				Name:  "logout",
				Usage: "Forget the stored relay URL and API key",
				Action: func(ctx context.Context, cmd *cli.Command) error {
					dir, err := Dir(os.Getenv)
					if err != nil {
						return err
					}
					had, err := Remove(dir)
					if err != nil {
						return err
					}
					if !had {
						fmt.Fprintln(f.IO.ErrOut, "Not logged in.")
						return nil
					}
					fmt.Fprintln(f.IO.ErrOut, "Logged out: the stored relay URL and API key are gone.")
					return nil
				},
			},
		},
	}
}

func login(ctx context.Context, f *factory.Factory, cmd *cli.Command) error {
	if !cmd.IsSet("relay") {
		return patchpanda.Errorf(patchpanda.EINVALID, "name the relay: %s auth login --relay URL", f.Program)
	}
	token, err := readToken(f, cmd.Bool("with-token"))
	if err != nil {
		return err
	}
	// Only the prefix is checked here: internal/keys, which knows the
	// whole form, brings the database with it, and ppctl stays small and
	// pure Go. The relay checks the rest on first use.
	if !strings.HasPrefix(token, keyPrefix) || len(token) < len(keyPrefix)+8 {
		return patchpanda.Errorf(patchpanda.EINVALID, "that is not an API key: API keys start with %q", keyPrefix)
	}
	t, err := f.Resolve(cmd)
	if err != nil {
		return err
	}
	c, err := f.Client(cmd)
	if err != nil {
		return err
	}
	if err := c.Do(ctx, "GET", "/healthz", nil, nil, nil); err != nil {
		return err
	}
	dir, err := Dir(os.Getenv)
	if err != nil {
		return err
	}
	if err := Save(dir, Stored{Relay: t.Relay, Token: token}); err != nil {
		return err
	}
	fmt.Fprintf(f.IO.ErrOut, "Logged in to %s with API key %s… (stored in %s)\n", t.Relay, token[:len(keyPrefix)+4], dir)
	return nil
}

func readToken(f *factory.Factory, fromStdin bool) (string, error) {
	var b []byte
	file, isFile := f.IO.In.(*os.File)
	switch {
	case fromStdin || !f.IO.InTTY || !isFile:
		var err error
		if b, err = io.ReadAll(io.LimitReader(f.IO.In, maxTokenInput+1)); err != nil {
			return "", fmt.Errorf("read the API key from standard input: %w", err)
		}
		if len(b) > maxTokenInput {
			return "", patchpanda.Errorf(patchpanda.EINVALID, "standard input is over %d bytes; pipe in one API key", maxTokenInput)
		}
	default:
		fmt.Fprint(f.IO.ErrOut, "Paste an API key (input is hidden): ")
		var err error
		b, err = term.ReadPassword(int(file.Fd()))
		fmt.Fprintln(f.IO.ErrOut)
		if err != nil {
			return "", fmt.Errorf("read the API key from the terminal: %w", err)
		}
	}
	token := strings.TrimSpace(string(b))
	if token == "" {
		return "", patchpanda.Errorf(patchpanda.EINVALID, "no API key given; pipe one in with --with-token")
	}
	return token, nil
}

func status(ctx context.Context, f *factory.Factory, cmd *cli.Command) error {
	t, err := f.Resolve(cmd)
	if err != nil {
		return err
	}
	fmt.Fprintf(f.IO.Out, "Relay:      %s (from %s)\n", t.Relay, t.RelaySource)
	switch t.Kind {
	case factory.NoCredential:
		fmt.Fprintf(f.IO.Out, "Credential: none (log in with %s auth login)\n", f.Program)
	case factory.APIKey:
		fmt.Fprintf(f.IO.Out, "Credential: API key %s… (from %s)\n", t.Token[:min(len(t.Token), len(keyPrefix)+4)], t.TokenSource)
	default:
		fmt.Fprintf(f.IO.Out, "Credential: %s (from %s)\n", t.Kind, t.TokenSource)
	}
	c, err := f.Client(cmd)
	if err != nil {
		return err
	}
	if err := c.Do(ctx, "GET", "/healthz", nil, nil, nil); err != nil {
		fmt.Fprintf(f.IO.Out, "Reachable:  no (%s)\n", patchpanda.ErrorMessage(err))
		return err
	}
	fmt.Fprintln(f.IO.Out, "Reachable:  yes")
	if t.Kind == factory.NoCredential {
		return patchpanda.Errorf(patchpanda.EUNAUTHORIZED, "not logged in")
	}
	return nil
}
