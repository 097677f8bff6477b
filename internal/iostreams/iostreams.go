// Package iostreams decides how ppctl talks to its terminal: tables when
// stdout is a terminal and tab-separated lines when it is piped, JSON (with
// an optional jq filter) on request, and prompts only where a person can
// answer. It is the home of github.com/cli/go-gh's terminal packages.
package iostreams

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/cli/go-gh/v2/pkg/tableprinter"
	"github.com/cli/go-gh/v2/pkg/term"
)

// IO holds a command's streams and what is known about them.
type IO struct {
	In io.Reader
	// Out and ErrOut sanitize what is written to them (see NewSanitizer):
	// print everything there.
	Out    io.Writer
	ErrOut io.Writer
	// Terminal is stdout unfiltered, for the terminal UI and for clearing
	// the screen; nothing a server sent may be written to it unsanitized.
	Terminal io.Writer
	// OutTTY and InTTY say whether stdout and stdin are terminals.
	OutTTY, InTTY bool
	// Width is the terminal's width, for tables.
	Width int
	// NoColor is set when the user asked for no colour (NO_COLOR).
	NoColor bool
}

// System returns the process's streams, inspecting the terminal.
func System() *IO {
	t := term.FromEnv()
	w, _, err := t.Size()
	if err != nil || w <= 0 {
		w = 120
	}
	return &IO{In: os.Stdin, Out: NewSanitizer(os.Stdout), ErrOut: NewSanitizer(os.Stderr), Terminal: os.Stdout,
		OutTTY: t.IsTerminalOutput(), InTTY: term.IsTerminal(os.Stdin), Width: w, NoColor: os.Getenv("NO_COLOR") != ""}
}

// Test returns streams over buffers, not a terminal, for tests.
func Test() (*IO, *bytes.Buffer, *bytes.Buffer, *bytes.Buffer) {
	in, out, errOut := &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IO{In: in, Out: NewSanitizer(out), ErrOut: NewSanitizer(errOut), Terminal: out, Width: 120}, in, out, errOut
}

// Raw returns Terminal, or Out when none is set.
func (s *IO) Raw() io.Writer {
	if s.Terminal != nil {
		return s.Terminal
	}
	return s.Out
}

// CanPrompt reports whether a person can answer a prompt.
func (s *IO) CanPrompt() bool { return s.InTTY && s.OutTTY }

// Confirm asks a yes/no question on the terminal; it returns false for
// anything but y or yes.
func (s *IO) Confirm(question string) (bool, error) {
	fmt.Fprintf(s.ErrOut, "%s [y/N] ", question)
	line, err := bufio.NewReader(s.In).ReadString('\n')
	if err != nil && err != io.EOF {
		return false, err
	}
	answer := strings.ToLower(strings.TrimSpace(line))
	return answer == "y" || answer == "yes", nil
}

// Table returns a printer that aligns columns on a terminal and writes
// tab-separated lines otherwise; it sanitizes every field.
func (s *IO) Table(headers ...string) Table {
	tp := tableprinter.New(s.Out, s.OutTTY, s.Width)
	tp.AddHeader(headers)
	return safeTable{tp}
}

// Color reports whether colour may be used: not when NO_COLOR is set.
func (s *IO) Color() bool { return !s.NoColor }

// Printf prints to Out, sanitizing every string argument: the way to
// print server-supplied text outside a table.
func (s *IO) Printf(format string, args ...any) {
	fmt.Fprintf(s.Out, format, sanitizeArgs(args)...)
}

// Errorf is Printf to ErrOut.
func (s *IO) Errorf(format string, args ...any) {
	fmt.Fprintf(s.ErrOut, format, sanitizeArgs(args)...)
}

func sanitizeArgs(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case string:
			out[i] = Sanitize(v)
		case fmt.Stringer:
			out[i] = Sanitize(v.String())
		case error:
			out[i] = Sanitize(v.Error())
		default:
			out[i] = a
		}
	}
	return out
}

// JSON prints v as indented JSON, or, when expr is not empty, the result of
// the jq expression expr applied to it (as gh's --jq does).
func (s *IO) JSON(v any, expr string) error { return s.PrintJSON(v, Export{JQ: expr}) }

// Ago says how long before now t was, coarsely, for people.
func Ago(t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d/time.Hour))
	default:
		return fmt.Sprintf("%dd ago", int(d/(24*time.Hour)))
	}
}
