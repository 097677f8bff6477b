package authcmd

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/iostreams"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// keyPrefix starts every PatchPanda API key (keys.Prefix).
const keyPrefix = "ppk_"

// maxTokenInput bounds what login reads from standard input.
const maxTokenInput = 4 << 10

// New returns the `auth` command.
func New(f *factory.Factory) *cli.Command {
	return &cli.Command{
		Name:     "auth",
		Usage:    "Keep the relay's URL and an API key for later commands",
		Commands: []*cli.Command{newLogin(f, nil), newStatus(f, nil), newLogout(f, nil)},
	}
}

// configDir is the directory the login is kept in (Dir of the
// environment).
func configDir() (string, error) { return Dir(os.Getenv) }

// LoginOptions is what `auth login` runs with.
type LoginOptions struct {
	IO *iostreams.IO
	// Program is how the user runs ppctl, for messages.
	Program string
	// Resolve returns the relay the global flags name.
	Resolve   func() (factory.Target, error)
	Client    factory.ClientFunc
	ConfigDir func() (string, error)

	// WithToken reads the key from standard input even on a terminal.
	WithToken bool
}

func newLogin(f *factory.Factory, runF func(context.Context, *LoginOptions) error) *cli.Command {
	return &cli.Command{
		Name:  "login",
		Usage: "Store a relay URL and an API key (read from standard input, or asked for on a terminal)",
		Description: "The relay comes from --relay (or PATCHPANDA_RELAY_URL). The key is checked for\n" +
			"its form and the relay for an answer, then both are written to the user's\n" +
			"config directory, readable by the user alone:\n\n" +
			"   echo \"$KEY\" | ppctl auth login --relay https://relay.example.com --with-token",
		Flags: []cli.Flag{&cli.BoolFlag{Name: "with-token", Usage: "read the API key from standard input"}},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if !cmd.IsSet("relay") {
				return patchpanda.Errorf(patchpanda.EINVALID, "name the relay: %s auth login --relay URL", f.Program)
			}
			opts := &LoginOptions{IO: f.IO, Program: f.Program, Resolve: func() (factory.Target, error) { return f.Resolve(cmd) },
				Client: f.ClientFor(cmd), ConfigDir: configDir, WithToken: cmd.Bool("with-token")}
			if runF != nil {
				return runF(ctx, opts)
			}
			return loginRun(ctx, opts)
		},
	}
}

func loginRun(ctx context.Context, opts *LoginOptions) error {
	token, err := readToken(opts.IO, opts.WithToken)
	if err != nil {
		return err
	}
	// Only the prefix is checked here: internal/keys, which knows the
	// whole form, brings the database with it, and ppctl stays small and
	// pure Go. The relay checks the rest on first use.
	if !strings.HasPrefix(token, keyPrefix) || len(token) < len(keyPrefix)+8 {
		return patchpanda.Errorf(patchpanda.EINVALID, "that is not an API key: API keys start with %q", keyPrefix)
	}
	t, err := opts.Resolve()
	if err != nil {
		return err
	}
	c, err := opts.Client()
	if err != nil {
		return err
	}
	if err := c.Do(ctx, "GET", "/healthz", nil, nil, nil); err != nil {
		return err
	}
	dir, err := opts.ConfigDir()
	if err != nil {
		return err
	}
	if err := Save(dir, Stored{Relay: t.Relay, Token: token}); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "Logged in to %s with API key %s… (stored in %s)\n", t.Relay, token[:len(keyPrefix)+4], dir)
	return nil
}

// LogoutOptions is what `auth logout` runs with.
type LogoutOptions struct {
	IO        *iostreams.IO
	ConfigDir func() (string, error)
}

func newLogout(f *factory.Factory, runF func(context.Context, *LogoutOptions) error) *cli.Command {
	return &cli.Command{
		Name:  "logout",
		Usage: "Forget the stored relay URL and API key",
		Action: func(ctx context.Context, cmd *cli.Command) error {
			opts := &LogoutOptions{IO: f.IO, ConfigDir: configDir}
			if runF != nil {
				return runF(ctx, opts)
			}
			return logoutRun(ctx, opts)
		},
	}
}

func logoutRun(_ context.Context, opts *LogoutOptions) error {
	dir, err := opts.ConfigDir()
	if err != nil {
		return err
	}
	had, err := Remove(dir)
	if err != nil {
		return err
	}
	if !had {
		fmt.Fprintln(opts.IO.ErrOut, "Not logged in.")
		return nil
	}
	fmt.Fprintln(opts.IO.ErrOut, "Logged out: the stored relay URL and API key are gone.")
	return nil
}

func readToken(ios *iostreams.IO, fromStdin bool) (string, error) {
	token, err := ios.ReadSecret("the API key", "Paste an API key (input is hidden): ", maxTokenInput, fromStdin)
	if err == nil && token == "" {
		err = patchpanda.Errorf(patchpanda.EINVALID, "no API key given; pipe one in with --with-token")
	}
	return token, err
}

// StatusOptions is what `auth status` runs with.
type StatusOptions struct {
	IO *iostreams.IO
	// Program is how the user runs ppctl, for messages.
	Program string
	// Resolve returns the relay and credential commands use.
	Resolve func() (factory.Target, error)
	Client  factory.ClientFunc
}

func newStatus(f *factory.Factory, runF func(context.Context, *StatusOptions) error) *cli.Command {
	return &cli.Command{
		Name:  "status",
		Usage: "Say which relay and credential commands use, and whether the relay answers",
		Action: func(ctx context.Context, cmd *cli.Command) error {
			opts := &StatusOptions{IO: f.IO, Program: f.Program, Resolve: func() (factory.Target, error) { return f.Resolve(cmd) }, Client: f.ClientFor(cmd)}
			if runF != nil {
				return runF(ctx, opts)
			}
			return statusRun(ctx, opts)
		},
	}
}

func statusRun(ctx context.Context, opts *StatusOptions) error {
	t, err := opts.Resolve()
	if err != nil {
		return err
	}
	out := opts.IO.Out
	fmt.Fprintf(out, "Relay:      %s (from %s)\n", t.Relay, t.RelaySource)
	switch t.Kind {
	case factory.NoCredential:
		fmt.Fprintf(out, "Credential: none (log in with %s auth login)\n", opts.Program)
	case factory.APIKey:
		fmt.Fprintf(out, "Credential: API key %s… (from %s)\n", t.Token[:min(len(t.Token), len(keyPrefix)+4)], t.TokenSource)
	default:
		fmt.Fprintf(out, "Credential: %s (from %s)\n", t.Kind, t.TokenSource)
	}
	c, err := opts.Client()
	if err != nil {
		return err
	}
	if err := c.Do(ctx, "GET", "/healthz", nil, nil, nil); err != nil {
		fmt.Fprintf(out, "Reachable:  no (%s)\n", patchpanda.ErrorMessage(err))
		return err
	}
	fmt.Fprintln(out, "Reachable:  yes")
	if t.Kind == factory.NoCredential {
		return patchpanda.Errorf(patchpanda.EUNAUTHORIZED, "not logged in")
	}
	return nil
}
