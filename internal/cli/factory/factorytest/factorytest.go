// Package factorytest runs a ppctl command's flag parsing without a relay:
// the command's constructor is given a run function that keeps the
// options it is handed instead of doing the work.
package factorytest

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/iostreams"
)

// New returns a factory over test streams whose relay client fails the
// test when a command asks for it while parsing.
func New(t testing.TB) *factory.Factory {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	return &factory.Factory{
		IO:          ios,
		Program:     "ppctl",
		Version:     "test",
		DefaultRepo: func() string { return "" },
		Client: func(*cli.Command) (*httpapi.Client, error) {
			t.Error("the relay client was asked for while parsing flags")
			return httpapi.NewClient("http://127.0.0.1:1", ""), nil
		},
	}
}

// Parse runs the command newCmd builds under a root with ppctl's global
// flags (--relay, --token), on args: the verb's own, without its name,
// rewritten as Main does (`--json a,b` reads as `--json=a,b`). It returns
// the options the constructor parsed, or the error it returned before
// running. Usage and help go nowhere.
func Parse[O any](t testing.TB, f *factory.Factory, newCmd func(*factory.Factory, func(context.Context, *O) error) *cli.Command, args ...string) (*O, error) {
	t.Helper()
	var got *O
	cmd := newCmd(f, func(_ context.Context, o *O) error {
		got = o
		return nil
	})
	root := &cli.Command{
		Name:           "ppctl",
		Writer:         io.Discard,
		ErrWriter:      io.Discard,
		ExitErrHandler: func(context.Context, *cli.Command, error) {},
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "relay"},
			&cli.StringFlag{Name: "token"},
		},
		Commands: []*cli.Command{cmd},
	}
	err := root.Run(context.Background(), factory.JoinJSONValue(append([]string{"ppctl", cmd.Name}, args...)))
	if err == nil && got == nil {
		t.Fatalf("%s %v: the command did not reach its run function", cmd.Name, args)
	}
	return got, err
}

// Parsed checks Parse's error against want, the text the error must
// contain, or "" for none. It fails t on a mismatch and reports whether
// the parse succeeded as wanted, so the caller goes on to check the
// options only then.
func Parsed(t testing.TB, err error, want string) bool {
	t.Helper()
	if want != "" {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("error %v, want one containing %q", err, want)
		}
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}
