package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/patchpanda/patchpanda/internal/coverage"
)

// CoverageReports lists one page of stored coverage reports, with the
// merged coverage of the commits on it. It returns the relay's error as a
// *patchpanda.Error.
func (c *Client) CoverageReports(ctx context.Context, f coverage.ListParams) (coverage.List, error) {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("repo", f.Repo)
	set("branch", f.Branch)
	set("sha", f.SHA)
	set("flag", f.Flag)
	set("cursor", f.Cursor)
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	var out coverage.List
	err := c.Do(ctx, http.MethodGet, "/api/coverage", q, nil, &out)
	return out, err
}

// CoverageReport returns one stored report with its per-file totals, and
// with lines also the per-line hits of one page of its files, starting at
// cursor ("" for the first page; the answer's Next for the next). It
// returns the relay's error as a *patchpanda.Error (ENOTFOUND for an
// unknown id).
func (c *Client) CoverageReport(ctx context.Context, id int64, lines bool, cursor string) (coverage.StoredReport, error) {
	var q url.Values
	if lines {
		q = url.Values{"lines": {"1"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
	}
	var out coverage.StoredReport
	err := c.Do(ctx, http.MethodGet, "/api/coverage/"+strconv.FormatInt(id, 10), q, nil, &out)
	return out, err
}
