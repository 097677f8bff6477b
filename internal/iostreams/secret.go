package iostreams

import (
	"fmt"
	"io"
	"os"
	"strings"

	xterm "golang.org/x/term"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// ReadSecret reads a secret, such as a key, that must never come from a
// flag or an argument (the process list and shell history would keep it):
// on a terminal it prompts on ErrOut and reads without echo; from a pipe
// (or always, with fromStdin) it reads standard input, at most max bytes.
// It returns the secret trimmed of surrounding space, "" when none was
// given; what names it in errors ("the API key").
func (s *IO) ReadSecret(what, prompt string, max int64, fromStdin bool) (string, error) {
	var b []byte
	if file, ok := s.In.(*os.File); ok && !fromStdin && s.InTTY && xterm.IsTerminal(int(file.Fd())) {
		fmt.Fprint(s.ErrOut, prompt)
		var err error
		b, err = xterm.ReadPassword(int(file.Fd()))
		fmt.Fprintln(s.ErrOut)
		if err != nil {
			return "", fmt.Errorf("read %s from the terminal: %w", what, err)
		}
	} else {
		var err error
		if b, err = io.ReadAll(io.LimitReader(s.In, max+1)); err != nil {
			return "", fmt.Errorf("read %s from standard input: %w", what, err)
		}
		if int64(len(b)) > max {
			return "", patchpanda.Errorf(patchpanda.EINVALID, "standard input is over %d bytes; pipe in %s alone", max, what)
		}
	}
	return strings.TrimSpace(string(b)), nil
}
