package keys

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
)

func newList(f *factory.Factory) *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "List API keys",
		Flags: factory.JSONFlags(),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			c, err := f.Client(cmd)
			if err != nil {
				return err
			}
			ks, err := c.ListKeys(ctx)
			if err != nil {
				return err
			}
			if factory.WantsJSON(cmd) {
				return f.PrintJSON(cmd, ks)
			}
			tp := f.IO.Table("ID", "NAME", "PREFIX", "SCOPES", "STATE", "LAST USED", "CREATED")
			for _, k := range ks {
				tp.AddField(strconv.FormatInt(k.ID, 10))
				tp.AddField(k.Name)
				tp.AddField(k.Prefix)
				scopes := make([]string, len(k.Scopes))
				for i, s := range k.Scopes {
					scopes[i] = string(s)
				}
				tp.AddField(strings.Join(scopes, ","))
				tp.AddField(k.State(time.Now()))
				tp.AddField(when(k.LastUsedAt))
				tp.AddField(k.CreatedAt.Format(time.RFC3339))
				tp.EndRow()
			}
			return tp.Render()
		},
	}
}

func when(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.Format(time.RFC3339)
}
