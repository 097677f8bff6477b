// Package cli is ppctl's command tree: the root with its global flags and
// the one table from errors to exit codes. Each noun lives in its own
// package below this one, one file per verb.
package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/audit"
	"github.com/patchpanda/patchpanda/internal/cli/authcmd"
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

// Instant reports whether args ask for what ppctl answers at once, with
// nothing it could wait on: `ppctl version`, which scripts run to check an
// install. Main answers it before building the command tree (every noun's
// flags and help, most of what ppctl itself did at start-up), and main
// need not install an interrupt handler for it.
func Instant(args []string) bool { return len(args) == 2 && args[1] == "version" }

// Main runs ppctl with args and returns the exit code.
func Main(ctx context.Context, args []string, io *iostreams.IO) int {
	if Instant(args) {
		printVersion(io)
		return ExitOK
	}
	extension := len(args) > 0 && ghenv.IsExtension(args[0])
	program := "ppctl"
	if extension {
		program = "gh patchpanda"
	}
	res := newResolver(extension, osGetenv)
	f := &factory.Factory{IO: io, Version: Version, Program: program, DefaultRepo: func() string { return "" }, Resolve: res.resolve}
	if extension {
		// As `gh patchpanda`, gh's repository is the default, as gh's
		// own commands have it; looked up once, and only when asked for.
		f.DefaultRepo = func() string { g, _ := res.gh(); return g.Repository }
	}
	f.Client = func(cmd *cli.Command) (*httpapi.Client, error) {
		t, err := res.resolve(cmd)
		if err != nil {
			return nil, err
		}
		c := httpapi.NewClient(t.Relay, t.Token)
		c.UserAgent = "ppctl/" + Version
		c.HTTP = &http.Client{Transport: noticeErrors{next: http.DefaultTransport, answered: &res.answered}}
		return c, nil
	}
	root := &cli.Command{
		Name:      program,
		Usage:     "PatchPanda's command line: coverage uploads, jobs, keys and billing",
		Version:   Version,
		Writer:    io.Out,
		ErrWriter: io.ErrOut,
		Reader:    io.In,
		// Errors are printed once, below.
		ExitErrHandler:        func(context.Context, *cli.Command, error) {},
		EnableShellCompletion: true,
		ConfigureShellCompletionCommand: func(c *cli.Command) {
			c.Hidden = false
			c.Usage = "Print a shell completion script: bash, zsh, fish or pwsh"
		},
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "relay", Usage: "the relay's base `URL` (default: the one from auth login, else " + DefaultRelay + "; none as gh patchpanda)", Sources: cli.EnvVars("PATCHPANDA_RELAY_URL")},
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
			authcmd.New(f),
			{
				Name:  "version",
				Usage: "Print ppctl's version",
				Action: func(ctx context.Context, cmd *cli.Command) error {
					printVersion(io)
					return nil
				},
			},
		},
	}
	prepareUsage(root)
	err := root.Run(ctx, factory.JoinJSONValue(args))
	if err != nil {
		printError(io, err, res)
		ghenv.ErrorAnnotation(osGetenv, io.Out, patchpanda.ErrorMessage(err))
	}
	return exitCode(err)
}

// printVersion prints what `ppctl version` prints.
func printVersion(io *iostreams.IO) {
	fmt.Fprintf(io.Out, "ppctl version %s\n", Version)
}

func printError(io *iostreams.IO, err error, res *resolver) {
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(io.ErrOut, "cancelled")
		return
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(io.ErrOut, "error: %s\n\n%s\n", ue.msg, ue.usage)
		return
	}
	msg := err.Error()
	var pe *patchpanda.Error
	if errors.As(err, &pe) && err.Error() == pe.Error() {
		msg = pe.Message
	}
	t := res.target
	unauthorized := patchpanda.ErrorCode(err) == patchpanda.EUNAUTHORIZED
	switch {
	case t != nil && unauthorized && t.Kind == factory.GitHubToken && strings.HasPrefix(pe.Message, "API key"):
		// The relay took the GitHub token for a malformed API key: it has
		// no GitHub App to check GitHub tokens with.
		fmt.Fprintf(io.ErrOut, "error: the relay at %s does not accept GitHub tokens (it has no GitHub App configured)\n", t.Relay)
		fmt.Fprintf(io.ErrOut, "Log in with an API key instead: %s auth login --relay %s\n", programOf(res), t.Relay)
		return
	case t != nil && res.answered.Load() && !strings.Contains(msg, t.Relay):
		fmt.Fprintf(io.ErrOut, "error: the relay at %s answered: %s\n", t.Relay, msg)
	default:
		fmt.Fprintf(io.ErrOut, "error: %s\n", msg)
	}
	if unauthorized && !strings.Contains(msg, "PATCHPANDA_TOKEN") {
		fmt.Fprintf(io.ErrOut, "Authenticate with `%s auth login`, --token or PATCHPANDA_TOKEN (an API key from `relay admin-key create` or `ppctl keys create`).\n", programOf(res))
	}
}

func programOf(res *resolver) string {
	if res.extension {
		return "gh patchpanda"
	}
	return "ppctl"
}
