// Package billing is `ppctl billing`: billing projects and their budgets,
// the repositories bound to them and their provider keys (admin key
// needed).
package billing

import (
	"strconv"
	"strings"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/iostreams"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// New returns the `billing` command.
func New(f *factory.Factory) *cli.Command {
	return &cli.Command{
		Name:  "billing",
		Usage: "Manage billing projects, budgets, repository bindings and provider keys (needs an admin key)",
		Commands: []*cli.Command{
			{
				Name:     "projects",
				Usage:    "List, create, show, rename billing projects and set their monthly budgets",
				Commands: []*cli.Command{newProjectsList(f, nil), newProjectsCreate(f, nil), newProjectsShow(f, nil), newProjectsSetBudget(f, nil), newProjectsRename(f, nil)},
			},
			newBind(f, nil),
			newUnbind(f, nil),
			{
				Name:     "provider-keys",
				Usage:    "Manage the model-provider API keys of a billing project",
				Commands: []*cli.Command{newProviderKeysList(f, nil), newProviderKeysAdd(f, nil), newProviderKeysRevoke(f, nil)},
			},
		},
	}
}

// args checks the number of positional arguments against usage.
func args(cmd *cli.Command, n int, usage string) error {
	if cmd.NArg() != n {
		return patchpanda.Errorf(patchpanda.EINVALID, "usage: ppctl billing %s", usage)
	}
	return nil
}

// parseID parses a positive id argument, naming what it is on failure.
func parseID(s, what string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, patchpanda.Errorf(patchpanda.EINVALID, "%s %q is not a positive number", what, s)
	}
	return id, nil
}

func budgetText(p httpapi.BillingProject) string {
	if p.BudgetUSD == nil {
		return "none"
	}
	return *p.BudgetUSD
}

func stateText(p httpapi.BillingProject) string {
	switch {
	case p.OverBudget:
		return "over budget"
	case p.BudgetUSD == nil:
		return "no budget"
	default:
		return "ok"
	}
}

func printProjects(ios *iostreams.IO, ps []httpapi.BillingProject) error {
	tp := ios.Table("ID", "NAME", "BUDGET USD", "SPENT USD", "MONTH", "STATE", "REPOSITORIES")
	for _, p := range ps {
		tp.AddField(strconv.FormatInt(p.ID, 10))
		tp.AddField(p.Name)
		tp.AddField(budgetText(p))
		tp.AddField(p.SpentUSD)
		tp.AddField(p.Month)
		tp.AddField(stateText(p))
		tp.AddField(strings.Join(p.Repositories, ","))
		tp.EndRow()
	}
	return tp.Render()
}
