package configcmd

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/config"
	"github.com/patchpanda/patchpanda/internal/iostreams"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// Validated is what `ppctl config validate --json` prints for one file.
type Validated struct {
	File     string                   `json:"file"`
	Valid    bool                     `json:"valid"`
	Problems []config.ValidationError `json:"problems"`
	// Config is the file merged over the defaults, when it is valid.
	Config *config.Config `json:"config,omitempty"`
}

// ValidateOptions is what `config validate` runs with.
type ValidateOptions struct {
	IO       *iostreams.IO
	Exporter factory.Exporter
	// ReadFile reads the file to check (os.ReadFile).
	ReadFile func(name string) ([]byte, error)

	File string
}

func newValidate(f *factory.Factory, runF func(context.Context, *ValidateOptions) error) *cli.Command {
	return &cli.Command{
		Name:      "validate",
		Usage:     "Check a .testbot.yml (default: ./.testbot.yml); errors name the line and column",
		ArgsUsage: "[FILE]",
		Flags:     factory.JSONFlags(),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			opts := &ValidateOptions{IO: f.IO, Exporter: f.ExporterFor(cmd), ReadFile: os.ReadFile, File: ".testbot.yml"}
			if cmd.NArg() > 1 {
				return patchpanda.Errorf(patchpanda.EINVALID, "usage: ppctl config validate [FILE]")
			}
			if cmd.NArg() == 1 {
				opts.File = cmd.Args().First()
			}
			if runF != nil {
				return runF(ctx, opts)
			}
			return validateRun(ctx, opts)
		},
	}
}

func validateRun(_ context.Context, opts *ValidateOptions) error {
	file := opts.File
	data, err := opts.ReadFile(file)
	if err != nil {
		return patchpanda.Errorf(patchpanda.EINVALID, "cannot read %s: %v", file, errors.Unwrap(err))
	}
	out := Validated{File: file, Problems: []config.ValidationError{}}
	rc, err := config.ParseRepoConfig(file, data)
	var verrs config.ValidationErrors
	switch {
	case errors.As(err, &verrs):
		out.Problems = verrs
	case err != nil:
		return err
	default:
		out.Valid = true
		c := config.Defaults()
		if rc != nil {
			c = rc.Config()
		}
		out.Config = &c
	}
	if opts.Exporter != nil {
		if err := opts.Exporter.Write(out); err != nil {
			return err
		}
	} else if out.Valid {
		fmt.Fprintf(opts.IO.Out, "%s is valid\n", file)
	} else {
		for _, p := range out.Problems {
			fmt.Fprintln(opts.IO.Out, p.Error())
		}
	}
	if !out.Valid {
		return patchpanda.Errorf(patchpanda.EINVALID, "%s has %d problem(s)", file, len(out.Problems))
	}
	return nil
}
