// Package iostreams decides how ppctl talks to its terminal: tables when
// stdout is a terminal and tab-separated lines when it is piped, JSON (with
// an optional jq filter) on request, and prompts only where a person can
// answer. It is the home of github.com/cli/go-gh's terminal packages.
package iostreams

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/cli/go-gh/v2/pkg/jq"
	"github.com/cli/go-gh/v2/pkg/tableprinter"
	"github.com/cli/go-gh/v2/pkg/term"
)

// IO holds a command's streams and what is known about them.
type IO struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// OutTTY and InTTY say whether stdout and stdin are terminals.
	OutTTY, InTTY bool
	// Width is the terminal's width, for tables.
	Width int
}

// System returns the process's streams, inspecting the terminal.
func System() *IO {
	t := term.FromEnv()
	w, _, err := t.Size()
	if err != nil || w <= 0 {
		w = 120
	}
	return &IO{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		OutTTY: t.IsTerminalOutput(), InTTY: term.IsTerminal(os.Stdin), Width: w}
}

// Test returns streams over buffers, not a terminal, for tests.
func Test() (*IO, *bytes.Buffer, *bytes.Buffer, *bytes.Buffer) {
	in, out, errOut := &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IO{In: in, Out: out, ErrOut: errOut, Width: 120}, in, out, errOut
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
// tab-separated lines otherwise.
func (s *IO) Table(headers ...string) tableprinter.TablePrinter {
	tp := tableprinter.New(s.Out, s.OutTTY, s.Width)
	tp.AddHeader(headers)
	return tp
}

// JSON prints v as indented JSON, or, when expr is not empty, the result of
// the jq expression expr applied to it (as gh's --jq does).
func (s *IO) JSON(v any, expr string) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode JSON: %w", err)
	}
	if expr == "" {
		_, err = fmt.Fprintf(s.Out, "%s\n", b)
		return err
	}
	if err := jq.Evaluate(bytes.NewReader(b), s.Out, expr); err != nil {
		return fmt.Errorf("--jq: %w", err)
	}
	return nil
}

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
