package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
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
	if err != nil || out.Job == nil || out.Job.ID == "" {
		return nil, err
	}
	return &out, nil
}

// ClaimJob claims a job whose message a worker took from Redis or SQS,
// and returns its lease. It returns an ECONFLICT error when another key
// holds the job or it is not queued.
func (c *Client) ClaimJob(ctx context.Context, id string) (*Lease, error) {
	var out Lease
	if err := c.Do(ctx, http.MethodPost, "/api/jobs/"+url.PathEscape(id)+"/claim", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// JobToken mints an installation token for a job's repository, for the
// holder of lease (a lease_id from LeaseJob or ClaimJob).
func (c *Client) JobToken(ctx context.Context, id, lease string) (patchpanda.JobToken, error) {
	var out patchpanda.JobToken
	err := c.doLeased(ctx, "/api/jobs/"+url.PathEscape(id)+"/token", lease, nil, &out)
	return out, err
}

// ReportJob posts a worker event for the holder of lease.
func (c *Client) ReportJob(ctx context.Context, id, lease string, ev patchpanda.WorkerEvent) (*patchpanda.Job, error) {
	var out patchpanda.Job
	err := c.doLeased(ctx, "/api/jobs/"+url.PathEscape(id)+"/events", lease, ev, &out)
	return &out, err
}

// doLeased POSTs body to path with the PatchPanda-Lease header.
func (c *Client) doLeased(ctx context.Context, path, lease string, body, out any) error {
	var rd io.Reader = http.NoBody
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("httpapi: encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL+path, rd)
	if err != nil {
		return patchpanda.Errorf(patchpanda.EINVALID, "relay URL %q: %v", c.BaseURL, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set(LeaseHeader, lease)
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	return c.send(req, out)
}
