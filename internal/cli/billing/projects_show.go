package billing

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
)

func newProjectsShow(f *factory.Factory) *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "Show a billing project: budget, this month's spending and repositories",
		ArgsUsage: "ID",
		Flags:     factory.JSONFlags(),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if err := args(cmd, 1, "projects show ID"); err != nil {
				return err
			}
			id, err := parseID(cmd.Args().First(), "project id")
			if err != nil {
				return err
			}
			c, err := f.Client(cmd)
			if err != nil {
				return err
			}
			p, err := c.BillingProject(ctx, id)
			if err != nil {
				return err
			}
			if factory.WantsJSON(cmd) {
				return f.PrintJSON(cmd, p)
			}
			repos := strings.Join(p.Repositories, ", ")
			if repos == "" {
				repos = "none"
			}
			tp := f.IO.Table("FIELD", "VALUE")
			for _, row := range [][2]string{
				{"id", strconv.FormatInt(p.ID, 10)},
				{"name", p.Name},
				{"budget_usd", budgetText(p)},
				{"spent_usd", p.SpentUSD},
				{"month", p.Month},
				{"state", stateText(p)},
				{"repositories", repos},
				{"created_at", p.CreatedAt.Format(time.RFC3339)},
			} {
				tp.AddField(row[0])
				tp.AddField(row[1])
				tp.EndRow()
			}
			return tp.Render()
		},
	}
}
