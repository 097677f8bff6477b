package patchpanda

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Length caps on free text a request may carry, in bytes. Each is a
// domain rule: a name longer than a screen line, or a message longer than
// a page, is a mistake or an attack, and either way a row too big to show.
const (
	// MaxNameLen caps names people give: API keys, billing projects,
	// provider keys, providers.
	MaxNameLen = 100
	// MaxMessageLen caps a worker event's message.
	MaxMessageLen = 4096
	// MaxURLLen caps URLs (a worker's pull_request_url).
	MaxURLLen = 2048
	// MaxBranchLen caps branch names (git allows more; GitHub's UI and API
	// work with at most 255).
	MaxBranchLen = 255
	// MaxFilterLen caps a filter or cursor in a query string.
	MaxFilterLen = 256
	// MaxSecretLen caps a provider API key.
	MaxSecretLen = 8192
)

// CheckName reports whether value is fit for a one-line field: valid
// UTF-8, at most max bytes, and free of control characters (NUL, newline,
// escape…). It returns an EINVALID error naming field and the limit; the
// error never quotes value, which may be huge or hostile.
func CheckName(field, value string, max int) error {
	if err := checkLen(field, value, max); err != nil {
		return err
	}
	if i := strings.IndexFunc(value, unicode.IsControl); i >= 0 {
		return Errorf(EINVALID, "%s has a control character at byte %d; it must be one line of printable text", field, i)
	}
	return nil
}

// CheckText reports whether value is fit for a multi-line field: valid
// UTF-8, at most max bytes, and without NUL (which PostgreSQL cannot store
// in text). Newlines and tabs are allowed; printing strips what a terminal
// would obey. It returns an EINVALID error naming field and the limit.
func CheckText(field, value string, max int) error {
	if err := checkLen(field, value, max); err != nil {
		return err
	}
	if i := strings.IndexByte(value, 0); i >= 0 {
		return Errorf(EINVALID, "%s has a NUL byte at byte %d", field, i)
	}
	return nil
}

func checkLen(field, value string, max int) error {
	if len(value) > max {
		return Errorf(EINVALID, "%s is %d bytes long; the limit is %d", field, len(value), max)
	}
	if !utf8.ValidString(value) {
		return Errorf(EINVALID, "%s is not valid UTF-8", field)
	}
	return nil
}

// Check caps the event's free text: the message (multi-line) and the pull
// request URL. It returns an EINVALID error naming the field and limit.
func (e WorkerEvent) Check() error {
	if err := CheckText("message", e.Message, MaxMessageLen); err != nil {
		return err
	}
	if err := CheckName("pull_request_url", e.PullRequestURL, MaxURLLen); err != nil {
		return err
	}
	return CheckName("type", e.Type, 32)
}
