package billing

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/patchpanda/patchpanda/internal/cli/factory/factorytest"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/iostreams"
)

// check fails the test unless err matches wantErr (a part of the message,
// "" for none); it reports whether there are options to look at.
func check(t *testing.T, err error, wantErr string) bool {
	t.Helper()
	if wantErr == "" {
		if err != nil {
			t.Fatal(err)
		}
		return true
	}
	if err == nil || !strings.Contains(err.Error(), wantErr) {
		t.Fatalf("error %v, want one containing %q", err, wantErr)
	}
	return false
}

func amount(s string) *httpapi.Amount {
	a := httpapi.Amount(s)
	return &a
}

func TestProjectsVerbsParseTheirArguments(t *testing.T) {
	t.Run("list takes no argument", func(t *testing.T) {
		opts, err := factorytest.Parse(t, factorytest.New(t), newProjectsList, "--json")
		if check(t, err, "") && opts.Exporter == nil {
			t.Error("--json did not ask for JSON")
		}
		_, err = factorytest.Parse(t, factorytest.New(t), newProjectsList, "x")
		check(t, err, "usage: ppctl billing projects list")
	})

	creates := []struct {
		name    string
		args    []string
		want    httpapi.CreateBillingProjectRequest
		wantErr string
	}{
		{"a name without a budget", []string{"web"}, httpapi.CreateBillingProjectRequest{Name: "web"}, ""},
		{"a name and a budget", []string{"--budget", "99.50", "web"}, httpapi.CreateBillingProjectRequest{Name: "web", BudgetUSD: amount("99.50")}, ""},
		{"a budget that is not an amount", []string{"--budget", "lots", "web"}, httpapi.CreateBillingProjectRequest{}, "lots"},
		{"no name", nil, httpapi.CreateBillingProjectRequest{}, "usage: ppctl billing projects create NAME [--budget USD]"},
	}
	for _, tt := range creates {
		t.Run("create: "+tt.name, func(t *testing.T) {
			opts, err := factorytest.Parse(t, factorytest.New(t), newProjectsCreate, tt.args...)
			if !check(t, err, tt.wantErr) {
				return
			}
			if diff := cmp.Diff(tt.want, opts.Request); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("show takes a project id", func(t *testing.T) {
		opts, err := factorytest.Parse(t, factorytest.New(t), newProjectsShow, "3")
		if check(t, err, "") && opts.ProjectID != 3 {
			t.Errorf("project %d, want 3", opts.ProjectID)
		}
		_, err = factorytest.Parse(t, factorytest.New(t), newProjectsShow, "web")
		check(t, err, `project id "web" is not a positive number`)
	})

	budgets := []struct {
		name    string
		args    []string
		want    httpapi.Amount
		wantErr string
	}{
		{"an amount", []string{"4", "250"}, "250", ""},
		{"none is zero", []string{"4", "none"}, "0", ""},
		{"not an amount", []string{"4", "many"}, "", "many"},
		{"a missing amount", []string{"4"}, "", "usage: ppctl billing projects set-budget ID USD"},
	}
	for _, tt := range budgets {
		t.Run("set-budget: "+tt.name, func(t *testing.T) {
			opts, err := factorytest.Parse(t, factorytest.New(t), newProjectsSetBudget, tt.args...)
			if check(t, err, tt.wantErr) && (opts.ProjectID != 4 || opts.BudgetUSD != tt.want) {
				t.Errorf("project %d budget %q, want 4 and %q", opts.ProjectID, opts.BudgetUSD, tt.want)
			}
		})
	}

	t.Run("rename takes an id and a name", func(t *testing.T) {
		opts, err := factorytest.Parse(t, factorytest.New(t), newProjectsRename, "2", "mobile apps")
		if check(t, err, "") && (opts.ProjectID != 2 || opts.Name != "mobile apps") {
			t.Errorf("got %d %q, want 2 \"mobile apps\"", opts.ProjectID, opts.Name)
		}
		_, err = factorytest.Parse(t, factorytest.New(t), newProjectsRename, "0", "x")
		check(t, err, `project id "0" is not a positive number`)
	})
}

func TestBindAndUnbindParseTheirArguments(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"an id and a repository", []string{"1", "acme/app"}, ""},
		{"not a repository", []string{"1", "acme"}, "acme"},
		{"no repository", []string{"1"}, "ID OWNER/NAME"},
		{"not an id", []string{"one", "acme/app"}, `project id "one" is not a positive number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bind, err := factorytest.Parse(t, factorytest.New(t), newBind, tt.args...)
			if check(t, err, tt.wantErr) && (bind.ProjectID != 1 || bind.Repo != "acme/app") {
				t.Errorf("bind: %d %q", bind.ProjectID, bind.Repo)
			}
			unbind, err := factorytest.Parse(t, factorytest.New(t), newUnbind, append([]string{"--yes"}, tt.args...)...)
			if check(t, err, tt.wantErr) && (unbind.ProjectID != 1 || unbind.Repo != "acme/app" || unbind.Confirm == nil) {
				t.Errorf("unbind: %d %q", unbind.ProjectID, unbind.Repo)
			}
		})
	}
}

func TestProviderKeysVerbsParseTheirArguments(t *testing.T) {
	t.Run("add takes the provider and name from flags, never the key", func(t *testing.T) {
		opts, err := factorytest.Parse(t, factorytest.New(t), newProviderKeysAdd, "--provider", "openai", "--name", "prod", "5")
		if !check(t, err, "") {
			return
		}
		if diff := cmp.Diff([]any{int64(5), "openai", "prod"}, []any{opts.ProjectID, opts.Provider, opts.Name}); diff != "" {
			t.Errorf("options (-want +got):\n%s", diff)
		}
		_, err = factorytest.Parse(t, factorytest.New(t), newProviderKeysAdd, "--name", "prod", "5")
		check(t, err, "provider")
	})
	t.Run("list takes a project id", func(t *testing.T) {
		opts, err := factorytest.Parse(t, factorytest.New(t), newProviderKeysList, "8")
		if check(t, err, "") && opts.ProjectID != 8 {
			t.Errorf("project %d, want 8", opts.ProjectID)
		}
	})
	revokes := []struct {
		name           string
		args           []string
		project, keyID int64
		wantErr        string
	}{
		{"a project and a key", []string{"-y", "8", "12"}, 8, 12, ""},
		{"no key", []string{"8"}, 0, 0, "usage: ppctl billing provider-keys revoke ID KEYID"},
		{"a bad key id", []string{"8", "k12"}, 0, 0, `key id "k12" is not a positive number`},
	}
	for _, tt := range revokes {
		t.Run("revoke: "+tt.name, func(t *testing.T) {
			opts, err := factorytest.Parse(t, factorytest.New(t), newProviderKeysRevoke, tt.args...)
			if check(t, err, tt.wantErr) && (opts.ProjectID != tt.project || opts.KeyID != tt.keyID) {
				t.Errorf("got %d/%d, want %d/%d", opts.ProjectID, opts.KeyID, tt.project, tt.keyID)
			}
		})
	}
}

func TestProviderKeysAddReadsTheKeyBeforeCallingTheRelay(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	opts := &ProviderKeysAddOptions{IO: ios, ProjectID: 5, Provider: "openai", Name: "prod",
		Client: func() (*httpapi.Client, error) {
			t.Fatal("the relay was called without a key")
			return nil, nil
		}}
	err := providerKeysAddRun(context.Background(), opts)
	check(t, err, "no key on standard input")
}
