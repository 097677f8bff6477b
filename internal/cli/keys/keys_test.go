package keys

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/patchpanda/patchpanda/internal/cli/factory/factorytest"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

func TestCreateParsesItsFlags(t *testing.T) {
	type parsed struct {
		Name, Expires string
		Scopes        []patchpanda.Scope
		JSON          bool
	}
	tests := []struct {
		name    string
		args    []string
		want    parsed
		wantErr string
	}{
		{"one scope", []string{"--name", "ci", "--scope", "coverage:write"},
			parsed{Name: "ci", Scopes: []patchpanda.Scope{patchpanda.ScopeCoverageWrite}}, ""},
		{"repeated scopes, expiry and json", []string{"--name", "ops", "--scope", "jobs:read", "--scope", "jobs:write", "--expires", "30d", "--json"},
			parsed{Name: "ops", Expires: "30d", Scopes: []patchpanda.Scope{patchpanda.ScopeJobsRead, patchpanda.ScopeJobsWrite}, JSON: true}, ""},
		{"an unknown scope is refused", []string{"--name", "x", "--scope", "root"}, parsed{}, "root"},
		{"a name is required", []string{"--scope", "admin"}, parsed{}, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, err := factorytest.Parse(t, factorytest.New(t), newCreate, tt.args...)
			if !factorytest.Parsed(t, err, tt.wantErr) {
				return
			}
			got := parsed{Name: opts.Name, Expires: opts.Expires, Scopes: opts.Scopes, JSON: opts.Exporter != nil}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}

func TestListParsesItsFlags(t *testing.T) {
	for _, tt := range []struct {
		args []string
		json bool
	}{{nil, false}, {[]string{"--json"}, true}, {[]string{"--jq", ".[].name"}, true}} {
		opts, err := factorytest.Parse(t, factorytest.New(t), newList, tt.args...)
		if err != nil {
			t.Fatal(err)
		}
		if got := opts.Exporter != nil; got != tt.json {
			t.Errorf("%v: JSON output %v, want %v", tt.args, got, tt.json)
		}
	}
}

func TestRevokeParsesItsID(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    int64
		wantErr string
	}{
		{"an id", []string{"42"}, 42, ""},
		{"an id with --yes", []string{"--yes", "7"}, 7, ""},
		{"no id", nil, 0, "usage: ppctl keys revoke ID"},
		{"two ids", []string{"1", "2"}, 0, "usage: ppctl keys revoke ID"},
		{"not a number", []string{"abc"}, 0, `key id "abc" is not a positive number`},
		{"zero", []string{"0"}, 0, `key id "0" is not a positive number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, err := factorytest.Parse(t, factorytest.New(t), newRevoke, tt.args...)
			if !factorytest.Parsed(t, err, tt.wantErr) {
				return
			}
			if opts.ID != tt.want || opts.Confirm == nil {
				t.Errorf("ID %d (confirm set: %v), want %d", opts.ID, opts.Confirm != nil, tt.want)
			}
		})
	}
}

func TestRevokeAsksBeforeCallingTheRelay(t *testing.T) {
	opts := &RevokeOptions{
		ID:      3,
		Confirm: func(_ context.Context, q string) error { return fmt.Errorf("refused %q: %w", q, context.Canceled) },
		Client: func() (*httpapi.Client, error) {
			t.Fatal("the relay was called although the revocation was refused")
			return nil, nil
		},
	}
	err := revokeRun(context.Background(), opts)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), `"revoke key 3"`) {
		t.Fatalf("error %v, want the refusal of \"revoke key 3\"", err)
	}
}
