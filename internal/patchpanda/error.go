package patchpanda

import (
	"errors"
	"fmt"
)

// Error codes classify failures once, at the place they happen. The HTTP
// layer maps them to status codes and the CLI maps them to exit codes; each
// has exactly one table for that.
const (
	EINVALID      = "invalid"      // the caller sent something malformed
	EUNAUTHORIZED = "unauthorized" // no or bad credentials
	EFORBIDDEN    = "forbidden"    // credentials lack the permission
	ENOTFOUND     = "not_found"    // the thing does not exist
	ECONFLICT     = "conflict"     // the thing's state does not allow it
	ETOOLARGE     = "too_large"    // the body or a limit was exceeded
	EUNSUPPORTED  = "unsupported"  // a media type or format we do not take
	ERATELIMITED  = "rate_limited" // slow down and try again later
	EUNAVAILABLE  = "unavailable"  // a dependency is down; retry
	EINTERNAL     = "internal"     // a bug or an unexpected failure
)

// Error is a failure whose Message is safe to show to the user who caused
// it. Anything not of this type is reported to users as an internal error,
// with its text kept for the logs only.
type Error struct {
	Code    string
	Message string
}

// Error returns the message prefixed with its code.
func (e *Error) Error() string {
	return fmt.Sprintf("patchpanda: %s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, "" for a
// nil err, and EINTERNAL for any other error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-safe message of the first *Error in err's
// chain, or a generic text for any other error so that internals never leak.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
