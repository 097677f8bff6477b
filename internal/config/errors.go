package config

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// maxErrors bounds how many problems one file reports, so that a hostile or
// badly broken file cannot produce an unbounded list.
const maxErrors = 100

// ValidationError is one problem in a configuration file: where it is (File,
// 1-based Line and Column, and the key Path such as "generate.max_files" or
// "generate.paths[2]") and what is wrong with it. Check-run annotations are
// built from these fields.
type ValidationError struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
}

// Error returns the problem as "file:line:column: path: message".
func (e ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d:%d: ", e.File, e.Line, e.Column)
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// ValidationErrors is every problem found in one file, in the order they
// appear in it. As an error it unwraps to a *patchpanda.Error with code
// EINVALID whose message lists them all, so the HTTP and CLI error tables
// classify it without knowing this package.
type ValidationErrors []ValidationError

// Error returns one problem per line.
func (errs ValidationErrors) Error() string {
	lines := make([]string, len(errs))
	for i, e := range errs {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns an EINVALID *patchpanda.Error carrying the same text.
func (errs ValidationErrors) Unwrap() error {
	return &patchpanda.Error{Code: patchpanda.EINVALID, Message: errs.Error()}
}

func (errs ValidationErrors) sort() {
	slices.SortStableFunc(errs, func(a, b ValidationError) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
}

// Violation is a key that a repository's file set but that the server
// config does not let it set, or a value above a server limit. Effective
// ignores or clamps such values and reports each one; the dispatcher fails
// the check run with one annotation per violation. The embedded position
// points into the file that set the value, and Layer says which file that
// is (only LayerHead positions are lines of the pull request's own file).
// Rule names what rejected the value: a server rule's name, ServerRule for
// the server config's top level, or RuleProtected.
type Violation struct {
	ValidationError
	Layer string `json:"layer"`
	Rule  string `json:"rule"`
}

// The layers a Violation's position can point into.
const (
	LayerServer = "server"         // the server config file
	LayerBase   = "default_branch" // the default branch's .testbot.yml
	LayerHead   = "head"           // the pull request head's .testbot.yml
)

// Rule names used in a Violation that are not the name of a server rule.
const (
	// RuleProtected rejects a pull request's change to a protected key (one
	// that widens who may trigger or what may be spent).
	RuleProtected = "protected"
	// ServerRule is the name of the server config's top level, which acts
	// as a rule matching every repository.
	ServerRule = "server config"
)
