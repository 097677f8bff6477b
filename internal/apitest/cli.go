package apitest

import (
	"context"
	"testing"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/iostreams"
)

// Run runs a ppctl command tree built by newCmd (a noun's New) against the
// environment with the admin key, as `ppctl ARGS…` would, with stdin as
// standard input (not a terminal). It returns what the command printed to
// stdout and stderr and its error.
func (e *Env) Run(t testing.TB, newCmd func(*factory.Factory) *cli.Command, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	io, in, out, errOut := iostreams.Test()
	in.WriteString(stdin)
	f := &factory.Factory{IO: io, Version: "test", DefaultRepo: func() string { return "" }}
	f.Client = func(cmd *cli.Command) (*httpapi.Client, error) {
		return httpapi.NewClient(cmd.String("relay"), cmd.String("token")), nil
	}
	root := &cli.Command{
		Name: "ppctl", Writer: io.Out, ErrWriter: io.ErrOut, Reader: io.In,
		ExitErrHandler: func(context.Context, *cli.Command, error) {},
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "relay", Value: e.URL},
			&cli.StringFlag{Name: "token", Value: e.Admin},
		},
		Commands: []*cli.Command{newCmd(f)},
	}
	err = root.Run(context.Background(), append([]string{"ppctl"}, args...))
	return out.String(), errOut.String(), err
}
