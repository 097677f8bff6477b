// Package cli is ppctl's command tree: the root with its global flags and
// the one table from errors to exit codes. Each noun lives in its own
// package below this one, one file per verb.
package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/audit"
	"github.com/patchpanda/patchpanda/internal/cli/billing"
	"github.com/patchpanda/patchpanda/internal/cli/configcmd"
	"github.com/patchpanda/patchpanda/internal/cli/coverage"
	"github.com/patchpanda/patchpanda/internal/cli/deliveries"
	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/cli/jobs"
	"github.com/patchpanda/patchpanda/internal/cli/keys"
	"github.com/patchpanda/patchpanda/internal/cli/tui"
	"github.com/patchpanda/patchpanda/internal/ghenv"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/iostreams"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// Version is set at build time.
var Version = "dev"

// Exit codes, as gh's.
const (
	ExitOK        = 0
	ExitError     = 1
	ExitCancelled = 2
	ExitAuth      = 4
)

// exitCode is the one table from errors to exit codes.
func exitCode(err error) int {
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, context.Canceled):
		return ExitCancelled
	case patchpanda.ErrorCode(err) == patchpanda.EUNAUTHORIZED:
		return ExitAuth
	default:
		return ExitError
	}
}

// DefaultRelay is the relay URL used when none is configured.
const DefaultRelay = "http://localhost:8080"

// Main runs ppctl with args and returns the exit code.
func Main(ctx context.Context, args []string, io *iostreams.IO) int {
	f := &factory.Factory{IO: io, Version: Version, DefaultRepo: func() string { return "" }}
	// As `gh patchpanda`, gh's repository and login are the defaults;
	// looked up once, and only when asked for.
	var gh func() (ghenv.GH, error)
	if len(args) > 0 && ghenv.IsExtension(args[0]) {
		gh = sync.OnceValues(ghenv.CurrentGH)
		f.DefaultRepo = func() string { g, _ := gh(); return g.Repository }
	}
	f.Client = func(cmd *cli.Command) (*httpapi.Client, error) {
		base := cmd.String("relay")
		// As gh patchpanda, gh's config names the relay unless a flag or
		// PATCHPANDA_RELAY_URL does.
		if gh != nil && !cmd.IsSet("relay") {
			if u := ghenv.RelayFromGHConfig(); u != "" {
				base = u
			}
		}
		u, err := url.Parse(base)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, patchpanda.Errorf(patchpanda.EINVALID, "relay URL %q is not an http(s) URL (set --relay or PATCHPANDA_RELAY_URL)", base)
		}
		token := cmd.String("token")
		// In GitHub Actions an upload without a token uses the job's OIDC
		// token, so gh's (often GITHUB_TOKEN) is not the default there.
		if token == "" && gh != nil && !ghenv.InActions(os.Getenv) {
			g, _ := gh()
			token = g.Token
		}
		c := httpapi.NewClient(base, token)
		c.UserAgent = "ppctl/" + Version
		return c, nil
	}
	root := &cli.Command{
		Name:      "ppctl",
		Usage:     "PatchPanda's command line: coverage uploads, jobs, keys and billing",
		Version:   Version,
		Writer:    io.Out,
		ErrWriter: io.ErrOut,
		Reader:    io.In,
		// Errors are printed once, below.
		ExitErrHandler: func(context.Context, *cli.Command, error) {},
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "relay", Usage: "the relay's base `URL`", Value: DefaultRelay, Sources: cli.EnvVars("PATCHPANDA_RELAY_URL")},
			&cli.StringFlag{Name: "token", Usage: "API key or token", Sources: cli.EnvVars("PATCHPANDA_TOKEN")},
		},
		Commands: []*cli.Command{
			coverage.New(f),
			configcmd.New(f),
			keys.New(f),
			billing.New(f),
			audit.New(f),
			jobs.New(f),
			deliveries.New(f),
			tui.New(f),
			{
				Name:  "version",
				Usage: "Print ppctl's version",
				Action: func(ctx context.Context, cmd *cli.Command) error {
					fmt.Fprintf(io.Out, "ppctl version %s\n", Version)
					return nil
				},
			},
		},
	}
	err := root.Run(ctx, args)
	if err != nil {
		printError(io, err)
	}
	return exitCode(err)
}

func printError(io *iostreams.IO, err error) {
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(io.ErrOut, "cancelled")
		return
	}
	msg := err.Error()
	var pe *patchpanda.Error
	if errors.As(err, &pe) && err.Error() == pe.Error() {
		msg = pe.Message
	}
	fmt.Fprintf(io.ErrOut, "error: %s\n", msg)
	if patchpanda.ErrorCode(err) == patchpanda.EUNAUTHORIZED && !strings.Contains(msg, "PATCHPANDA_TOKEN") {
		fmt.Fprintln(io.ErrOut, "Authenticate with --token or PATCHPANDA_TOKEN (an API key from `relay admin-key create` or `ppctl keys create`).")
	}
}
