package billing

import (
	"context"
	"strconv"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
)

func newProviderKeysList(f *factory.Factory) *cli.Command {
	return &cli.Command{
		Name:      "list",
		Usage:     "List a billing project's provider keys (never the keys themselves)",
		ArgsUsage: "ID",
		Flags:     factory.JSONFlags(),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if err := args(cmd, 1, "provider-keys list ID"); err != nil {
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
			ks, err := c.ProviderKeys(ctx, id)
			if err != nil {
				return err
			}
			if factory.WantsJSON(cmd) {
				return f.PrintJSON(cmd, ks)
			}
			tp := f.IO.Table("ID", "PROVIDER", "NAME", "ENDS WITH", "STATE", "CREATED")
			for _, k := range ks {
				tp.AddField(strconv.FormatInt(k.ID, 10))
				tp.AddField(k.Provider)
				tp.AddField(k.Name)
				tp.AddField("…" + k.Hint)
				state := "active"
				if k.RevokedAt != nil {
					state = "revoked"
				}
				tp.AddField(state)
				tp.AddField(k.CreatedAt.Format(time.RFC3339))
				tp.EndRow()
			}
			return tp.Render()
		},
	}
}
