package relay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/audit"
	"github.com/patchpanda/patchpanda/internal/keys"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/secrets"
	"github.com/patchpanda/patchpanda/internal/store"
)

// Version is set at build time (-ldflags "-X …/internal/relay.Version=…").
var Version = "dev"

// Main runs the relay command line and returns the process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := &cli.Command{
		Name:      "relay",
		Usage:     "PatchPanda's GitHub App webhook target and REST API",
		Version:   Version,
		Writer:    stdout,
		ErrWriter: stderr,
		// Errors are printed once, below, not by the library.
		ExitErrHandler: func(context.Context, *cli.Command, error) {},
		Commands: []*cli.Command{
			{
				Name:  "serve",
				Usage: "serve webhooks and the API (the default with no settings: SQLite, db queue, no GitHub App)",
				Flags: flags(),
				Action: func(ctx context.Context, cmd *cli.Command) error {
					cfg, err := configFrom(cmd, os.Environ())
					if err != nil {
						return err
					}
					return serve(ctx, cfg, stderr)
				},
			},
			{
				Name:  "migrate",
				Usage: "apply pending database migrations",
				Flags: append(flags("database-url"), &cli.BoolFlag{Name: "down", Usage: "roll every migration back instead (destroys data)", Hidden: true}),
				Action: func(ctx context.Context, cmd *cli.Command) error {
					if err := errors.Join(unknownVariables(os.Environ())...); err != nil {
						return err
					}
					logger := newLogger(stderr, "info", "text")
					db, err := store.Open(ctx, cmd.String("database-url"))
					if err != nil {
						return err
					}
					defer db.Close()
					if cmd.Bool("down") {
						if err := db.MigrateDown(ctx); err != nil {
							return err
						}
						fmt.Fprintln(stdout, "rolled back every migration")
						return nil
					}
					applied, err := db.Migrate(ctx, logger)
					if err != nil {
						return err
					}
					fmt.Fprintf(stdout, "applied %d migration(s)\n", len(applied))
					return nil
				},
			},
			{
				Name:  "admin-key",
				Usage: "manage admin API keys for first set-up",
				Commands: []*cli.Command{{
					Name:  "create",
					Usage: "create an admin API key and print it once",
					Flags: append(flags("database-url", "secrets-keeper"), &cli.StringFlag{Name: "name", Value: "admin", Usage: "the key's name"}),
					Action: func(ctx context.Context, cmd *cli.Command) error {
						if err := errors.Join(unknownVariables(os.Environ())...); err != nil {
							return err
						}
						db, err := store.Open(ctx, cmd.String("database-url"))
						if err != nil {
							return err
						}
						defer db.Close()
						if _, err := db.Migrate(ctx, nil); err != nil {
							return err
						}
						// The key's audit event joins the relay's keyed chain:
						// an event sealed without the chain key would break
						// `ppctl audit verify`.
						keeper, err := secrets.Open(ctx, cmd.String("secrets-keeper"), secrets.DefaultKeyPath(db.Path()))
						if err != nil {
							return err
						}
						chain, err := audit.OpenChain(ctx, db, keeper, newLogger(stderr, "warn", "text"))
						if err != nil {
							return fmt.Errorf("audit chain: %w", err)
						}
						db.SetAuditChain(chain)
						k, plain, err := keys.NewService(db).Create(ctx, cmd.String("name"),
							[]patchpanda.Scope{patchpanda.ScopeAdmin}, 0, "relay admin-key create")
						if err != nil {
							return err
						}
						fmt.Fprintln(stdout, plain)
						fmt.Fprintf(stderr, "created admin key %d (%s); it is shown only this once\n", k.ID, k.Prefix)
						return nil
					},
				}},
			},
		},
	}
	if err := cmd.Run(ctx, args); err != nil {
		for _, line := range strings.Split(errorText(err), "\n") {
			fmt.Fprintf(stderr, "relay: %s\n", line)
		}
		return 1
	}
	return 0
}

func errorText(err error) string {
	var pe *patchpanda.Error
	if errors.As(err, &pe) && err.Error() == pe.Error() {
		return pe.Message
	}
	return err.Error()
}

func newLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func serve(ctx context.Context, cfg Config, stderr io.Writer) error {
	logger := newLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	r, err := Open(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer r.Close()
	if cfg.Embedded() {
		logger.Info("running on the embedded default: SQLite database, db queue, local secrets key, no GitHub App (GitHub calls are logged, not made)",
			"database", cfg.DatabaseURL, "addr", r.Addr())
	}
	logger.Info("relay listening", "addr", r.Addr(), "version", Version)
	return r.Run(ctx)
}
