package billing_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/patchpanda/patchpanda/internal/apitest"
	"github.com/patchpanda/patchpanda/internal/cli/billing"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

func TestBillingCommands(t *testing.T) {
	env := apitest.Start(t, nil)
	run := func(stdin string, args ...string) (string, string, error) {
		t.Helper()
		return env.Run(t, billing.New, stdin, append([]string{"billing"}, args...)...)
	}
	must := func(stdin string, args ...string) string {
		t.Helper()
		out, errOut, err := run(stdin, args...)
		if err != nil {
			t.Fatalf("ppctl billing %s: %v (stderr %q)", strings.Join(args, " "), err, errOut)
		}
		return out
	}

	if out := must("", "projects", "create", "acme", "--budget", "12.34"); out != "Created billing project 1 \"acme\" with a monthly budget of 12.34 USD\n" {
		t.Errorf("create = %q", out)
	}
	must("", "projects", "create", "free")
	if _, _, err := run("", "projects", "create", "bad", "--budget", "12.3456789"); patchpanda.ErrorCode(err) != patchpanda.EINVALID {
		t.Errorf("create with a bad budget: %v, want invalid", err)
	}
	if out := must("", "bind", "1", "octo/widgets"); out != "Bound octo/widgets to billing project 1\n" {
		t.Errorf("bind = %q", out)
	}
	must("", "bind", "1", "octo/gadgets")

	// Piped: tab-separated, no header.
	want := "1\tacme\t12.34\t0.00\t" + month(t, env) + "\tok\tocto/gadgets,octo/widgets\n" +
		"2\tfree\tnone\t0.00\t" + month(t, env) + "\tno budget\t\n"
	if diff := cmp.Diff(want, must("", "projects", "list")); diff != "" {
		t.Errorf("projects list (-want +got):\n%s", diff)
	}
	if out := must("", "projects", "list", "--jq", ".[0].budget_micros"); out != "12340000\n" {
		t.Errorf("list --jq = %q", out)
	}
	if out := must("", "projects", "set-budget", "1", "100"); !strings.Contains(out, "now has a monthly budget of 100.00 USD") {
		t.Errorf("set-budget = %q", out)
	}
	if out := must("", "projects", "set-budget", "1", "none", "--jq", ".budget_usd == null"); out != "true\n" {
		t.Errorf("set-budget none = %q", out)
	}
	if out := must("", "projects", "rename", "2", "gratis"); out != "Renamed billing project 2 to \"gratis\"\n" {
		t.Errorf("rename = %q", out)
	}
	show := must("", "projects", "show", "1")
	for _, line := range []string{"name\tacme\n", "budget_usd\tnone\n", "repositories\tocto/gadgets, octo/widgets\n"} {
		if !strings.Contains(show, line) {
			t.Errorf("show lacks %q:\n%s", line, show)
		}
	}
	var p httpapi.BillingProject
	if err := json.Unmarshal([]byte(must("", "projects", "show", "1", "--json")), &p); err != nil || p.Name != "acme" {
		t.Errorf("show --json = %+v, %v", p, err)
	}

	if _, _, err := run("", "unbind", "1", "octo/gadgets"); err == nil || !strings.Contains(err.Error(), "--yes") {
		t.Errorf("unbind without --yes off a terminal: %v", err)
	}
	if out := must("", "unbind", "1", "octo/gadgets", "--yes"); out != "Unbound octo/gadgets from billing project 1\n" {
		t.Errorf("unbind = %q", out)
	}
	if _, _, err := run("", "unbind", "1", "octo/gadgets", "--yes"); patchpanda.ErrorCode(err) != patchpanda.ENOTFOUND {
		t.Errorf("unbind again: %v, want not_found", err)
	}

	const secret = "sk-live-PLAINTEXT-from-stdin-1a2b"
	if _, _, err := run("", "provider-keys", "add", "1", "--provider", "openai", "--name", "prod"); err == nil || !strings.Contains(err.Error(), "no key on standard input") {
		t.Errorf("add without stdin: %v", err)
	}
	out := must(secret+"\n", "provider-keys", "add", "1", "--provider", "openai", "--name", "prod")
	if out != "Stored openai key 1 \"prod\" (ending …1a2b) for billing project 1\n" {
		t.Errorf("add = %q", out)
	}
	list := must("", "provider-keys", "list", "1")
	if !strings.HasPrefix(list, "1\topenai\tprod\t…1a2b\tactive\t") {
		t.Errorf("provider-keys list = %q", list)
	}
	if _, _, err := run("", "provider-keys", "revoke", "1", "1"); err == nil || !strings.Contains(err.Error(), "--yes") {
		t.Errorf("revoke without --yes: %v", err)
	}
	if out := must("", "provider-keys", "revoke", "1", "1", "--yes"); out != "Revoked openai key 1 \"prod\" of billing project 1\n" {
		t.Errorf("revoke = %q", out)
	}
	if out := must("", "provider-keys", "list", "1", "--jq", ".[0].revoked_at != null"); out != "true\n" {
		t.Errorf("list after revoke = %q", out)
	}

	for _, bad := range [][]string{
		{"projects", "show", "x"},
		{"projects", "show"},
		{"bind", "1", "widgets"},
		{"provider-keys", "list", "0"},
	} {
		if _, _, err := run("", bad...); patchpanda.ErrorCode(err) != patchpanda.EINVALID {
			t.Errorf("ppctl billing %s: %v, want invalid", strings.Join(bad, " "), err)
		}
	}
	if strings.Contains(env.Logs.String(), secret) {
		t.Error("the relay logged the key")
	}
}

func month(t *testing.T, env *apitest.Env) string {
	t.Helper()
	return env.DB.Now().UTC().Format("2006-01")
}
