package coverage

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/iostreams"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// exitCode is cli.Main's table from errors to exit codes.
func exitCode(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, context.Canceled):
		return 2
	case patchpanda.ErrorCode(err) == patchpanda.EUNAUTHORIZED:
		return 4
	default:
		return 1
	}
}

// result is one run of ppctl.
type result struct {
	code        int
	out, errOut string
	err         error
}

// run runs `ppctl [--relay URL] [--token T] coverage args...` the way
// cli.Main wires it, with d standing in for the machine.
func run(t *testing.T, d deps, tty bool, global []string, args ...string) result {
	t.Helper()
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	streams := &iostreams.IO{In: &bytes.Buffer{}, Out: iostreams.NewSanitizer(out), ErrOut: iostreams.NewSanitizer(errOut), Terminal: out, OutTTY: tty, InTTY: tty, Width: 200}
	f := &factory.Factory{IO: streams, DefaultRepo: func() string { return "" }}
	f.Client = func(cmd *cli.Command) (*httpapi.Client, error) {
		return httpapi.NewClient(cmd.String("relay"), cmd.String("token")), nil
	}
	f.Resolve = func(cmd *cli.Command) (factory.Target, error) {
		t := factory.Target{Relay: cmd.String("relay"), Token: cmd.String("token"), Kind: factory.NoCredential}
		if t.Token != "" {
			t.Kind = factory.APIKey
		}
		return t, nil
	}
	root := &cli.Command{
		Name: "ppctl", Writer: out, ErrWriter: errOut,
		ExitErrHandler: func(context.Context, *cli.Command, error) {},
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "relay", Value: "http://127.0.0.1:1"},
			&cli.StringFlag{Name: "token"},
		},
		Commands: []*cli.Command{newCommand(f, d)},
	}
	argv := append([]string{"ppctl"}, global...)
	argv = append(append(argv, "coverage"), args...)
	err := root.Run(context.Background(), argv)
	return result{code: exitCode(err), out: out.String(), errOut: errOut.String(), err: err}
}

// noMachine is a machine with no environment, no git checkout and no
// waiting.
func noMachine() deps {
	return deps{
		getenv: func(string) string { return "" },
		git: func(context.Context, ...string) ([]byte, error) {
			return nil, errors.New("fatal: not a git repository")
		},
		sleep: func(context.Context, time.Duration) error { return nil },
	}
}
