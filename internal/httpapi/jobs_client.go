package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// Jobs lists one page of jobs.
func (c *Client) Jobs(ctx context.Context, f patchpanda.JobFilter) (JobList, error) {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("repo", f.Repository)
	set("state", string(f.State))
	set("trigger", string(f.Trigger))
	set("cursor", f.After)
	if !f.Since.IsZero() {
		q.Set("since", f.Since.UTC().Format(time.RFC3339))
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	var out JobList
	err := c.Do(ctx, http.MethodGet, "/api/jobs", q, nil, &out)
	return out, err
}

// Job returns one job with its events.
func (c *Client) Job(ctx context.Context, id string) (*patchpanda.Job, error) {
	var out patchpanda.Job
	err := c.Do(ctx, http.MethodGet, "/api/jobs/"+url.PathEscape(id), nil, nil, &out)
	return &out, err
}

// ReplayJob enqueues a job's work again and returns the new attempt.
func (c *Client) ReplayJob(ctx context.Context, id string) (*patchpanda.Job, error) {
	var out patchpanda.Job
	err := c.Do(ctx, http.MethodPost, "/api/jobs/"+url.PathEscape(id)+"/replay", nil, nil, &out)
	return &out, err
}

// LeaseJob asks for the next job (db queue), waiting up to wait; it
// returns nil when none arrived.
func (c *Client) LeaseJob(ctx context.Context, wait time.Duration) (*Lease, error) {
	q := url.Values{"wait": {strconv.Itoa(int(wait / time.Second))}}
	var out Lease
	err := c.Do(ctx, http.MethodPost, "/api/worker/lease", q, nil, &out)
	if err != nil || out.Job.ID == "" {
		return nil, err
	}
	return &out, nil
}

// JobToken mints an installation token for a job's repository.
func (c *Client) JobToken(ctx context.Context, id string) (patchpanda.JobToken, error) {
	var out patchpanda.JobToken
	err := c.Do(ctx, http.MethodPost, "/api/jobs/"+url.PathEscape(id)+"/token", nil, nil, &out)
	return out, err
}

// ReportJob posts a worker event.
func (c *Client) ReportJob(ctx context.Context, id string, ev patchpanda.WorkerEvent) (*patchpanda.Job, error) {
	var out patchpanda.Job
	err := c.Do(ctx, http.MethodPost, "/api/jobs/"+url.PathEscape(id)+"/events", nil, ev, &out)
	return &out, err
}
