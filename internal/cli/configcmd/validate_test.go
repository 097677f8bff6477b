package configcmd_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/configcmd"
	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/iostreams"
)

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	io, _, out, _ := iostreams.Test()
	f := &factory.Factory{IO: io}
	root := &cli.Command{Name: "ppctl", Writer: io.Out, ErrWriter: io.ErrOut, Commands: []*cli.Command{configcmd.New(f)},
		ExitErrHandler: func(context.Context, *cli.Command, error) {}}
	err := root.Run(context.Background(), append([]string{"ppctl", "config", "validate"}, args...))
	return out.String(), err
}

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yml")
	bad := filepath.Join(dir, "bad.yml")
	os.WriteFile(good, []byte("version: 1\ngenerate:\n  framework: pytest\n"), 0o644)
	os.WriteFile(bad, []byte("version: 1\ngenerate:\n  max_files: 9000\n  framwork: jest\n"), 0o644)

	out, err := run(t, good)
	if err != nil || !strings.Contains(out, "is valid") {
		t.Fatalf("good file: %q, %v", out, err)
	}
	out, err = run(t, bad)
	if err == nil {
		t.Fatal("bad file passed")
	}
	for _, want := range []string{bad + ":3:", "max_files", bad + ":4:", "framwork"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, _ = run(t, "--json", bad)
	var v configcmd.Validated
	if err := json.Unmarshal([]byte(out), &v); err != nil || v.Valid || len(v.Problems) != 2 || v.Problems[0].Line != 3 {
		t.Errorf("--json = %s (%v)", out, err)
	}
	if _, err := run(t, filepath.Join(dir, "missing.yml")); err == nil || !strings.Contains(err.Error(), "cannot read") {
		t.Errorf("missing file: %v", err)
	}
}
