package factory

import (
	"context"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/httpapi"
)

// The seam between a command's flags and its work: each verb's
// constructor parses its flags and arguments into an Options struct of
// the verb's own, with the providers below in it, and hands it to a run
// function. A test passes its own run function to check the parsing
// without a relay, or calls the verb's run with fakes.

// ClientFunc returns a client of the relay; it is called only when the
// command needs the relay, and returns the resolver's error (no relay or
// credential configured) otherwise.
type ClientFunc func() (*httpapi.Client, error)

// ClientFor returns the ClientFunc of cmd's global flags.
func (f *Factory) ClientFor(cmd *cli.Command) ClientFunc {
	return func() (*httpapi.Client, error) { return f.Client(cmd) }
}

// Exporter prints a command's data as its --json, --jq and --template ask.
// A nil Exporter means none of them was given.
type Exporter interface {
	// Write prints v; it returns an EINVALID error for a bad field list,
	// jq expression or template.
	Write(v any) error
}

// ExporterFor returns cmd's Exporter, or nil when cmd was not asked for
// JSON.
func (f *Factory) ExporterFor(cmd *cli.Command) Exporter {
	if !WantsJSON(cmd) {
		return nil
	}
	return cmdExporter{f: f, cmd: cmd}
}

type cmdExporter struct {
	f   *Factory
	cmd *cli.Command
}

func (e cmdExporter) Write(v any) error { return e.f.PrintJSON(e.cmd, v) }

// ConfirmFunc asks before a destructive action, as ConfirmDestructive
// does, and returns its error when refused.
type ConfirmFunc func(ctx context.Context, question string) error

// ConfirmFor returns the ConfirmFunc of cmd's --yes.
func (f *Factory) ConfirmFor(cmd *cli.Command) ConfirmFunc {
	return func(ctx context.Context, question string) error { return f.ConfirmDestructive(ctx, cmd, question) }
}
