package httpapi

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/patchpanda/patchpanda/internal/coverage"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// CoverageUploadOptions are the query parameters of one coverage upload (see
// the contract at CoverageRoutes) and how hard to try.
type CoverageUploadOptions struct {
	Repo   string // OWNER/NAME; required
	SHA    string // the commit; required
	Branch string
	PR     int // 0 for none
	Flag   string
	Format string // "" lets the relay detect it
	Root   string
	Prefix string
	CIJob  string

	// Retry says how failed tries are repeated.
	Retry Retry
}

// Query returns the options as POST /api/coverage's query parameters,
// leaving out those that are empty.
func (o CoverageUploadOptions) Query() url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("repo", o.Repo)
	set("sha", o.SHA)
	set("branch", o.Branch)
	if o.PR > 0 {
		q.Set("pr", strconv.Itoa(o.PR))
	}
	set("flag", o.Flag)
	set("format", o.Format)
	set("root", o.Root)
	set("prefix", o.Prefix)
	set("ci_job", o.CIJob)
	return q
}

// DefaultAttempts is how many times a request is tried when Retry.Attempts
// is 0.
const DefaultAttempts = 5

// maxRetryAfter is the longest Retry-After we wait out; a relay asking for
// longer makes the upload fail now rather than hold a CI job for it.
const maxRetryAfter = 5 * time.Minute

// Retry is the policy for repeating a request that failed in a way a later
// try may not: the relay unreachable, a 5xx answer, or 429. A try waits the
// relay's Retry-After when it gives one, else patchpanda.Backoff.
type Retry struct {
	// Attempts bounds the tries, the first included; 0 means
	// DefaultAttempts and 1 means no retry.
	Attempts int
	// Sleep waits d, returning ctx's error if ctx ends first. Nil sleeps
	// for real; tests pass a recorder.
	Sleep func(ctx context.Context, d time.Duration) error
	// OnRetry, when set, hears of each failed try that will be repeated,
	// before the wait (ppctl prints it to stderr).
	OnRetry func(attempt int, wait time.Duration, err error)
}

func (r Retry) attempts() int {
	if r.Attempts <= 0 {
		return DefaultAttempts
	}
	return r.Attempts
}

func (r Retry) sleep(ctx context.Context, d time.Duration) error {
	if r.Sleep != nil {
		return r.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// UploadCoverage sends one report to POST /api/coverage and returns the
// relay's answer (201 new, or 200 with Duplicate set). body returns a fresh
// stream of the uncompressed upload body (the optional file-list block and
// the report) and is called once per try, since a sent body cannot be sent
// again; it is gzip-compressed on the wire while it is read, never held in
// memory whole. Failed tries are repeated as o.Retry says. Errors are
// *patchpanda.Error values with the relay's code (EUNAVAILABLE when it
// cannot be reached), errors from body wrapped as they are, or ctx's error.
func (c *Client) UploadCoverage(ctx context.Context, o CoverageUploadOptions, body func() (io.ReadCloser, error)) (coverage.Upload, error) {
	if o.Repo == "" || o.SHA == "" {
		return coverage.Upload{}, patchpanda.Errorf(patchpanda.EINVALID, "a coverage upload needs a repository and a commit sha")
	}
	q := o.Query()
	attempts := o.Retry.attempts()
	for attempt := 1; ; attempt++ {
		res, wait, retry, err := c.uploadOnce(ctx, q, body)
		if err == nil {
			return res, nil
		}
		if !retry {
			return coverage.Upload{}, err
		}
		if attempt >= attempts {
			return coverage.Upload{}, gaveUp(err, attempt)
		}
		if wait > maxRetryAfter {
			return coverage.Upload{}, err
		}
		if wait <= 0 {
			wait = patchpanda.Backoff(attempt)
		}
		if o.Retry.OnRetry != nil {
			o.Retry.OnRetry(attempt, wait, err)
		}
		if err := o.Retry.sleep(ctx, wait); err != nil {
			return coverage.Upload{}, err
		}
	}
}

// gaveUp notes the number of tries in the message of a retryable error.
func gaveUp(err error, tries int) error {
	var pe *patchpanda.Error
	if errors.As(err, &pe) {
		return &patchpanda.Error{Code: pe.Code, Message: fmt.Sprintf("%s (gave up after %d tries)", pe.Message, tries)}
	}
	return fmt.Errorf("%w (gave up after %d tries)", err, tries)
}

// errBodyAbandoned stops the compressing goroutine when the transport no
// longer reads the body (the relay answered early, or the request failed).
var errBodyAbandoned = errors.New("httpapi: request body no longer read")

// uploadOnce makes one try. It reports whether the failure is worth another
// try and how long the relay asked to wait (0 when it did not say).
func (c *Client) uploadOnce(ctx context.Context, q url.Values, body func() (io.ReadCloser, error)) (_ coverage.Upload, wait time.Duration, retry bool, _ error) {
	rc, err := body()
	if err != nil {
		return coverage.Upload{}, 0, false, err
	}
	pr, pw := io.Pipe()
	var bodyErr error // set by the goroutine before done closes
	done := make(chan struct{})
	go func() {
		defer close(done)
		zw := gzip.NewWriter(pw)
		_, err := io.Copy(zw, rc)
		if err == nil {
			err = zw.Close()
		}
		if cerr := rc.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil && !errors.Is(err, errBodyAbandoned) && !errors.Is(err, io.ErrClosedPipe) {
			bodyErr = err
		}
		pw.CloseWithError(err)
	}()
	// The goroutine ends before this try returns, whatever happened.
	finish := func() error {
		pr.CloseWithError(errBodyAbandoned)
		<-done
		return bodyErr
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL+"/api/coverage?"+q.Encode(), pr)
	if err != nil {
		finish()
		return coverage.Upload{}, 0, false, patchpanda.Errorf(patchpanda.EINVALID, "relay URL %q: %v", c.BaseURL, err)
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Accept", "application/json")
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		if berr := finish(); berr != nil {
			return coverage.Upload{}, 0, false, readErr(berr)
		}
		if ctx.Err() != nil {
			return coverage.Upload{}, 0, false, ctx.Err()
		}
		return coverage.Upload{}, 0, true, patchpanda.Errorf(patchpanda.EUNAVAILABLE, "cannot reach the relay at %s: %v", c.BaseURL, err)
	}
	defer resp.Body.Close()
	berr := finish()
	if resp.StatusCode >= 300 {
		retry = resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
		return coverage.Upload{}, retryAfter(resp.Header.Get("Retry-After"), time.Now()), retry, decodeError(resp)
	}
	if berr != nil {
		// The relay answered without all of the body; do not trust it.
		return coverage.Upload{}, 0, false, readErr(berr)
	}
	var out coverage.Upload
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return coverage.Upload{}, 0, false, fmt.Errorf("httpapi: decode answer of POST /api/coverage: %w", err)
	}
	return out, 0, false, nil
}

// readErr is a failure to read the body the caller gave: kept as it is when
// it is already a user-safe *patchpanda.Error, else wrapped.
func readErr(err error) error {
	var pe *patchpanda.Error
	if errors.As(err, &pe) {
		return err
	}
	return fmt.Errorf("httpapi: upload coverage: read body: %w", err)
}

// retryAfter reads a Retry-After header: seconds or an HTTP date. It
// returns 0 when the header is absent or unreadable.
func retryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil {
		switch {
		case s < 0:
			return 0
		case s > int(maxRetryAfter/time.Second):
			return maxRetryAfter + time.Second // too long to wait; also no overflow
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}
