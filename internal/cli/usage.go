package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/spelling"
)

// usageError is a mistake in how a command was called: printed once, as
// the problem, a suggestion when one is close, and the short usage, never
// the whole help.
type usageError struct {
	msg   string
	usage string
}

func (e *usageError) Error() string { return e.msg }

// prepareUsage makes every command of the tree answer a wrong flag or an
// unknown subcommand as gh does: the error, "did you mean", and how to
// get help.
func prepareUsage(cmd *cli.Command) {
	// Decided before Run, which adds a help subcommand to every command.
	group := len(cmd.Commands) > 0
	cmd.OnUsageError = func(ctx context.Context, c *cli.Command, err error, _ bool) error {
		msg := err.Error()
		if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
			name = strings.TrimLeft(name, "-")
			msg = fmt.Sprintf("unknown flag --%s", name)
			if s := suggest(name, flagNames(c)); s != "" {
				msg += fmt.Sprintf("\n\nDid you mean this?\n\t--%s", s)
			}
		}
		return &usageError{msg: msg, usage: shortUsage(c, group)}
	}
	if group && cmd.Action == nil {
		cmd.Action = func(ctx context.Context, c *cli.Command) error {
			if !c.Args().Present() {
				if c.Root() == c {
					return cli.ShowRootCommandHelp(c)
				}
				return cli.ShowSubcommandHelp(c)
			}
			name := c.Args().First()
			msg := fmt.Sprintf("unknown command %q for %q", name, c.FullName())
			var names []string
			for _, sub := range c.Commands {
				if !sub.Hidden {
					names = append(names, sub.Names()...)
				}
			}
			if s := suggest(name, names); s != "" {
				msg += fmt.Sprintf("\n\nDid you mean this?\n\t%s", s)
			}
			return &usageError{msg: msg, usage: shortUsage(c, true)}
		}
	}
	for _, sub := range cmd.Commands {
		prepareUsage(sub)
	}
}

func shortUsage(c *cli.Command, group bool) string {
	name := c.FullName()
	shape := "[flags]"
	if group {
		shape = "<command> [flags]"
	} else if c.ArgsUsage != "" {
		shape = c.ArgsUsage + " [flags]"
	}
	return fmt.Sprintf("Usage: %s %s\nRun '%s --help' for more.", name, shape, name)
}

// flagNames returns the names of the flags c accepts, its ancestors'
// included.
func flagNames(c *cli.Command) []string {
	var out []string
	for _, l := range c.Lineage() {
		for _, f := range l.Flags {
			out = append(out, f.Names()...)
		}
	}
	return out
}

// suggest returns the candidate closest to name — a prefix of it, or at
// most two edits away — or "" when none is close.
func suggest(name string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if len(name) >= 2 && strings.HasPrefix(c, name) && len(c)-len(name) < bestD {
			best, bestD = c, 0
			continue
		}
		if d := spelling.Distance(strings.ToLower(name), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}
