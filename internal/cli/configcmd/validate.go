package configcmd

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/config"
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

func newValidate(f *factory.Factory) *cli.Command {
	return &cli.Command{
		Name:      "validate",
		Usage:     "Check a .testbot.yml (default: ./.testbot.yml); errors name the line and column",
		ArgsUsage: "[FILE]",
		Flags:     factory.JSONFlags(),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			file := ".testbot.yml"
			if cmd.NArg() > 1 {
				return patchpanda.Errorf(patchpanda.EINVALID, "usage: ppctl config validate [FILE]")
			}
			if cmd.NArg() == 1 {
				file = cmd.Args().First()
			}
			data, err := os.ReadFile(file)
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
			if factory.WantsJSON(cmd) {
				if err := f.PrintJSON(cmd, out); err != nil {
					return err
				}
			} else if out.Valid {
				fmt.Fprintf(f.IO.Out, "%s is valid\n", file)
			} else {
				for _, p := range out.Problems {
					fmt.Fprintln(f.IO.Out, p.Error())
				}
			}
			if !out.Valid {
				return patchpanda.Errorf(patchpanda.EINVALID, "%s has %d problem(s)", file, len(out.Problems))
			}
			return nil
		},
	}
}
