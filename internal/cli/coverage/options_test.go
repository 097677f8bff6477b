package coverage

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/cli/factory/factorytest"
	cov "github.com/patchpanda/patchpanda/internal/coverage"
)

func TestSummaryParsesItsFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		paths   []string
		format  cov.Format
		json    bool
		wantErr string
	}{
		{name: "files, formats detected", args: []string{"a.info", "b.xml"}, paths: []string{"a.info", "b.xml"}},
		{name: "a forced format and JSON", args: []string{"--format", "jacoco", "--json", "r.xml"}, paths: []string{"r.xml"}, format: cov.JaCoCo, json: true},
		{name: "no file", wantErr: "usage: ppctl coverage summary FILE..."},
		{name: "an unknown format", args: []string{"--format", "gcov", "a"}, wantErr: `--format: unknown format "gcov"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, err := factorytest.Parse(t, factorytest.New(t), newSummary, tt.args...)
			if !factorytest.Parsed(t, err, tt.wantErr) {
				return
			}
			if diff := cmp.Diff(tt.paths, opts.Paths); diff != "" || opts.Format != tt.format || (opts.Exporter != nil) != tt.json {
				t.Errorf("format %q json %v, want %q %v; paths (-want +got):\n%s", opts.Format, opts.Exporter != nil, tt.format, tt.json, diff)
			}
		})
	}
}

func TestUploadParsesItsFlagsWithoutLookingAtTheMachine(t *testing.T) {
	// The machine (environment, git) is only asked when the upload runs,
	// so parsing the flags needs none.
	newCmd := func(f *factory.Factory, runF func(context.Context, *UploadOptions) error) *cli.Command {
		d := noMachine()
		d.getenv = func(k string) string { t.Errorf("read %s while parsing flags", k); return "" }
		return newUpload(f, d, runF)
	}
	sha := strings.Repeat("a", 40)
	tests := []struct {
		name    string
		args    []string
		want    UploadOptions
		wantErr string
	}{
		{name: "files alone", args: []string{"lcov.info"}, want: UploadOptions{Paths: []string{"lcov.info"}}},
		{name: "every flag", args: []string{"-R", "acme/app", "--sha", sha, "--branch", "main", "--pr", "7", "--flag", "unit",
			"--format", "cobertura", "--root", "/src", "--prefix", "web", "--ci-job", "42", "--no-files", "--dry-run", "c.xml", "d.xml"},
			want: UploadOptions{Paths: []string{"c.xml", "d.xml"}, Repo: "acme/app", SHA: sha, Branch: "main", PR: 7, PRSet: true, Flag: "unit",
				Format: cov.Cobertura, Root: "/src", Prefix: "web", CIJob: "42", NoFiles: true, DryRun: true}},
		{name: "--pr 0 is set, to say no pull request", args: []string{"--pr", "0", "a"}, want: UploadOptions{Paths: []string{"a"}, PRSet: true}},
		{name: "no file", args: []string{"--repo", "acme/app"}, wantErr: "usage: ppctl coverage upload FILE..."},
		{name: "an unknown format", args: []string{"--format", "xml", "a"}, wantErr: `--format: unknown format "xml"`},
		{name: "a negative pull request", args: []string{"--pr", "-1", "a"}, wantErr: "--pr -1 is not a pull request number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, err := factorytest.Parse(t, factorytest.New(t), newCmd, tt.args...)
			if !factorytest.Parsed(t, err, tt.wantErr) {
				return
			}
			ignore := cmpopts.IgnoreFields(UploadOptions{}, "IO", "Client", "Exporter", "Resolve", "DefaultRepo", "deps")
			if diff := cmp.Diff(tt.want, *opts, ignore, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}
