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
	"strings"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// Client is the typed client of the relay's REST API, used by ppctl and by
// tests. Its errors are *patchpanda.Error values carrying the server's code,
// so callers classify them with patchpanda.ErrorCode.
type Client struct {
	BaseURL string
	Token   string
	HTTP    *http.Client
	// UserAgent names the calling program.
	UserAgent string
}

// NewClient returns a client of the relay at baseURL authenticating with
// token ("" for none).
func NewClient(baseURL, token string) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), Token: token, HTTP: http.DefaultClient, UserAgent: "ppctl"}
}

// Do sends a request and decodes a JSON answer into out (when not nil). A
// non-2xx answer becomes a *patchpanda.Error with the server's code and
// message; an unreachable relay is an EUNAVAILABLE error.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("httpapi: encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	u := c.BaseURL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return patchpanda.Errorf(patchpanda.EINVALID, "relay URL %q: %v", c.BaseURL, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	return c.send(req, out)
}

func (c *Client) send(req *http.Request, out any) error {
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		if req.Context().Err() != nil {
			return req.Context().Err()
		}
		return patchpanda.Errorf(patchpanda.EUNAVAILABLE, "cannot reach the relay at %s: %v", c.BaseURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return decodeError(resp)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("httpapi: decode answer of %s %s: %w", req.Method, req.URL.Path, err)
	}
	return nil
}

func decodeError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var eb ErrorBody
	if json.Unmarshal(b, &eb) == nil && eb.Error.Code != "" {
		e := &patchpanda.Error{Code: eb.Error.Code, Message: eb.Error.Message}
		if ra := resp.Header.Get("Retry-After"); ra != "" {
			e.Message += " (retry after " + ra + "s)"
		}
		return e
	}
	return patchpanda.Errorf(codeOf(resp.StatusCode), "relay answered %s", resp.Status)
}

// CreateKey creates an API key; the answer holds the plaintext once.
func (c *Client) CreateKey(ctx context.Context, req CreateKeyRequest) (CreateKeyResponse, error) {
	var out CreateKeyResponse
	err := c.Do(ctx, http.MethodPost, "/api/admin/keys", nil, req, &out)
	return out, err
}

// ListKeys lists API keys.
func (c *Client) ListKeys(ctx context.Context) ([]patchpanda.APIKey, error) {
	var out KeyList
	err := c.Do(ctx, http.MethodGet, "/api/admin/keys", nil, nil, &out)
	return out.Keys, err
}

// RevokeKey revokes an API key by id.
func (c *Client) RevokeKey(ctx context.Context, id int64) (patchpanda.APIKey, error) {
	var out patchpanda.APIKey
	err := c.Do(ctx, http.MethodPost, "/api/admin/keys/"+strconv.FormatInt(id, 10)+"/revoke", nil, nil, &out)
	return out, err
}

// AuditEvents lists one page of audit events after afterID.
func (c *Client) AuditEvents(ctx context.Context, f patchpanda.AuditFilter) (AuditList, error) {
	q := url.Values{}
	if f.Action != "" {
		q.Set("action", f.Action)
	}
	if f.Subject != "" {
		q.Set("subject", f.Subject)
	}
	if f.AfterID > 0 {
		q.Set("after_id", strconv.FormatInt(f.AfterID, 10))
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	var out AuditList
	err := c.Do(ctx, http.MethodGet, "/api/audit", q, nil, &out)
	return out, err
}
