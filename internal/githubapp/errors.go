package githubapp

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// Errors that a failed call wraps, for errors.Is. Each is a
// *patchpanda.Error, so patchpanda.ErrorCode classifies a failed call and
// patchpanda.ErrorMessage gives a text safe to show users.
var (
	// ErrNotFound: GitHub answered 404 (the thing does not exist, or the
	// App cannot see it).
	ErrNotFound = &patchpanda.Error{Code: patchpanda.ENOTFOUND, Message: "not found on GitHub, or not visible to the PatchPanda App"}
	// ErrUnauthorized: GitHub refused the credentials (401).
	ErrUnauthorized = &patchpanda.Error{Code: patchpanda.EUNAUTHORIZED, Message: "GitHub did not accept the credentials"}
	// ErrForbidden: the credentials lack a permission (403).
	ErrForbidden = &patchpanda.Error{Code: patchpanda.EFORBIDDEN, Message: "the PatchPanda App lacks a permission on GitHub for this"}
	// ErrInvalid: GitHub refused the request as invalid (400, 422).
	ErrInvalid = &patchpanda.Error{Code: patchpanda.EINVALID, Message: "GitHub refused the request as invalid"}
	// ErrRateLimited: a primary or secondary rate limit held after the
	// retries allowed, or would have needed too long a wait.
	ErrRateLimited = &patchpanda.Error{Code: patchpanda.ERATELIMITED, Message: "GitHub's rate limit was reached; try again later"}
	// ErrUnavailable: GitHub kept failing (5xx) or could not be reached.
	ErrUnavailable = &patchpanda.Error{Code: patchpanda.EUNAVAILABLE, Message: "GitHub is unavailable; try again later"}
	// ErrNotConfigured: the call needs a GitHub App and none is configured.
	ErrNotConfigured = &patchpanda.Error{Code: patchpanda.EUNAUTHORIZED, Message: "GitHub tokens are not accepted: this relay has no GitHub App configured; use an API key"}
)

// APIError is an answer from GitHub outside 2xx. It unwraps to one of the
// Err values above (or to nothing, for a status none of them covers).
type APIError struct {
	StatusCode int
	// Message is GitHub's "message"; it never holds a credential.
	Message string
	// RequestID is X-GitHub-Request-Id, for GitHub support.
	RequestID string
	// RateLimited tells a primary or secondary rate limit.
	RateLimited bool
	// RetryAt is when GitHub said to try again (rate limits), or zero.
	RetryAt time.Time
}

// Error returns the status and GitHub's message.
func (e *APIError) Error() string {
	s := "GitHub answered " + strconv.Itoa(e.StatusCode)
	if t := http.StatusText(e.StatusCode); t != "" {
		s += " " + t
	}
	if e.Message != "" && e.Message != http.StatusText(e.StatusCode) {
		s += ": " + e.Message
	}
	if !e.RetryAt.IsZero() {
		s += " (retry at " + e.RetryAt.UTC().Format(time.RFC3339) + ")"
	}
	return s
}

// Unwrap returns the classification of the answer.
func (e *APIError) Unwrap() error {
	switch {
	case e.RateLimited:
		return ErrRateLimited
	case e.StatusCode == http.StatusNotFound:
		return ErrNotFound
	case e.StatusCode == http.StatusUnauthorized:
		return ErrUnauthorized
	case e.StatusCode == http.StatusForbidden:
		return ErrForbidden
	case e.StatusCode == http.StatusBadRequest, e.StatusCode == http.StatusUnprocessableEntity:
		return ErrInvalid
	case e.StatusCode >= 500:
		return ErrUnavailable
	}
	return nil
}

// classify turns what go-github returned into our error, wrapped with op.
// It returns nil for nil and for 202 Accepted (which go-github reports as
// an error).
func (c *Client) classify(op string, err error) error {
	if err == nil {
		return nil
	}
	var accepted *github.AcceptedError
	if errors.As(err, &accepted) {
		return nil
	}
	var resp *http.Response
	var msg string
	var rle *github.RateLimitError
	var abuse *github.AbuseRateLimitError
	var er *github.ErrorResponse
	switch {
	case errors.As(err, &rle):
		resp, msg = rle.Response, rle.Message
	case errors.As(err, &abuse):
		resp, msg = abuse.Response, abuse.Message
	case errors.As(err, &er):
		resp, msg = er.Response, er.Message
	}
	if resp == nil {
		var pe *patchpanda.Error
		if errors.As(err, &pe) {
			return fmt.Errorf("githubapp: %s: %w", op, err)
		}
		// Transport failures (after retries) and context errors. go-github
		// strips secrets from URLs, and ours carry none.
		if errors.Is(err, errRetriesExhausted) {
			return fmt.Errorf("githubapp: %s: %w: %w", op, ErrUnavailable, err)
		}
		return fmt.Errorf("githubapp: %s: %w", op, err)
	}
	ae := &APIError{StatusCode: resp.StatusCode, Message: msg, RequestID: resp.Header.Get("X-GitHub-Request-Id")}
	if d, ok := rateLimitWait(resp, []byte(msg), c.now(), 0); ok {
		ae.RateLimited = true
		ae.RetryAt = c.now().Add(d)
	}
	return fmt.Errorf("githubapp: %s: %w", op, ae)
}

// isSecondaryLimit reports whether a 403/429 body reads as GitHub's
// secondary rate limit answer.
func isSecondaryLimit(body []byte) bool {
	b := strings.ToLower(string(body))
	return strings.Contains(b, "secondary rate limit") || strings.Contains(b, "abuse")
}

// RetryAfter returns when GitHub said to try again, or the zero time.
func (e *APIError) RetryAfter() time.Time { return e.RetryAt }
