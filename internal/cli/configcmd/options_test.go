package configcmd

import (
	"context"
	"strings"
	"testing"

	"github.com/patchpanda/patchpanda/internal/cli/factory/factorytest"
	"github.com/patchpanda/patchpanda/internal/iostreams"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

func TestValidateParsesItsFile(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		file    string
		json    bool
		wantErr string
	}{
		{name: "the default file", file: ".testbot.yml"},
		{name: "a file given", args: []string{"ci/testbot.yml"}, file: "ci/testbot.yml"},
		{name: "as JSON", args: []string{"--json", "valid", "x.yml"}, file: "x.yml", json: true},
		{name: "two files", args: []string{"a.yml", "b.yml"}, wantErr: "usage: ppctl config validate [FILE]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, err := factorytest.Parse(t, factorytest.New(t), newValidate, tt.args...)
			if !factorytest.Parsed(t, err, tt.wantErr) {
				return
			}
			if opts.File != tt.file || (opts.Exporter != nil) != tt.json {
				t.Errorf("file %q json %v, want %q %v", opts.File, opts.Exporter != nil, tt.file, tt.json)
			}
		})
	}
}

func TestValidateRunsOnAFakeFile(t *testing.T) {
	tests := []struct {
		name, content, out, wantErr string
	}{
		{"an empty file is valid", "", "t.yml is valid\n", ""},
		{"an unknown key names its line", "version: 1\nnope: true\n", "t.yml:2:", "t.yml has 1 problem(s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, out, _ := iostreams.Test()
			opts := &ValidateOptions{IO: ios, File: "t.yml", ReadFile: func(name string) ([]byte, error) {
				if name != "t.yml" {
					t.Errorf("read %q, want t.yml", name)
				}
				return []byte(tt.content), nil
			}}
			err := validateRun(context.Background(), opts)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (patchpanda.ErrorCode(err) != patchpanda.EINVALID || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			if !strings.Contains(out.String(), tt.out) {
				t.Errorf("printed %q, want it to contain %q", out.String(), tt.out)
			}
		})
	}
}
