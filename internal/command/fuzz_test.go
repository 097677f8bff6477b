package command_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/patchpanda/patchpanda/internal/command"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"/patchpanda generate a 'b c' --framework=jest",
		"/patchpanda generte",
		"```\n/patchpanda cancel\n```\n/patchpanda retry",
		"<!-- x\n-->\n  /PATCHPANDA help",
		"> quote\n    code\n/patchpanda generate \"q\\\"x\" -- -d",
		"/patchpanda generate “a b” ‘c’",
		"~~~~\n~~~\n/patchpanda\n~~~~~",
		"/patchpanda \"unterminated",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		c, ok := command.Parse(body)
		if !ok {
			if diff := cmp.Diff(command.Command{}, c); diff != "" {
				t.Fatalf("Parse found no command but returned one:\n%s", diff)
			}
			return
		}
		if lines := strings.Count(body, "\n") + 1; c.Line < 1 || c.Line > lines {
			t.Fatalf("Parse put the command on line %d of %d", c.Line, lines)
		}
		if c.Unknown != "" && (c.Name != "" || c.Err == "") {
			t.Fatalf("an unknown command %+v must have no name and an error", c)
		}
		if c.Err != "" {
			return
		}
		if c.Name != command.Generate && (c.Paths != nil || c.Framework != "") {
			t.Fatalf("%s carries generate's arguments: %+v", c.Name, c)
		}
		// A well-formed command survives a trip through String.
		back, ok := command.Parse(c.String())
		if !ok {
			t.Fatalf("Parse(%q) found no command", c.String())
		}
		c.Line, back.Line = 0, 0
		if diff := cmp.Diff(c, back); diff != "" {
			t.Fatalf("Parse(String()) of %q mismatch (-want +got):\n%s", c.String(), diff)
		}
	})
}
