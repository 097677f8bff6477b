package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

func billingProjectPath(id int64) string {
	return "/api/admin/billing/projects/" + strconv.FormatInt(id, 10)
}

// BillingProjects lists billing projects with this month's spending.
func (c *Client) BillingProjects(ctx context.Context) ([]BillingProject, error) {
	var out BillingProjectList
	err := c.Do(ctx, http.MethodGet, "/api/admin/billing/projects", nil, nil, &out)
	return out.Projects, err
}

// CreateBillingProject creates a billing project.
func (c *Client) CreateBillingProject(ctx context.Context, req CreateBillingProjectRequest) (BillingProject, error) {
	var out BillingProject
	err := c.Do(ctx, http.MethodPost, "/api/admin/billing/projects", nil, req, &out)
	return out, err
}

// BillingProject returns one billing project.
func (c *Client) BillingProject(ctx context.Context, id int64) (BillingProject, error) {
	var out BillingProject
	err := c.Do(ctx, http.MethodGet, billingProjectPath(id), nil, nil, &out)
	return out, err
}

// UpdateBillingProject renames a project and/or sets its budget.
func (c *Client) UpdateBillingProject(ctx context.Context, id int64, req UpdateBillingProjectRequest) (BillingProject, error) {
	var out BillingProject
	err := c.Do(ctx, http.MethodPatch, billingProjectPath(id), nil, req, &out)
	return out, err
}

// BindRepository binds a repository ("owner/name") to a project.
func (c *Client) BindRepository(ctx context.Context, id int64, repo string) (patchpanda.RepositoryBinding, error) {
	var out patchpanda.RepositoryBinding
	err := c.Do(ctx, http.MethodPost, billingProjectPath(id)+"/repositories", nil, BindRepositoryRequest{Repository: repo}, &out)
	return out, err
}

// UnbindRepository removes a repository's binding to a project. It returns
// an EINVALID error for a repository not of the form owner/name.
func (c *Client) UnbindRepository(ctx context.Context, id int64, repo string) error {
	owner, name, err := patchpanda.ParseFullName(repo)
	if err != nil {
		return err
	}
	return c.Do(ctx, http.MethodDelete, billingProjectPath(id)+"/repositories/"+url.PathEscape(owner)+"/"+url.PathEscape(name), nil, nil, nil)
}

// ProviderKeys lists a project's provider keys (never the keys themselves).
func (c *Client) ProviderKeys(ctx context.Context, id int64) ([]patchpanda.ProviderKey, error) {
	var out ProviderKeyList
	err := c.Do(ctx, http.MethodGet, billingProjectPath(id)+"/provider-keys", nil, nil, &out)
	return out.ProviderKeys, err
}

// AddProviderKey stores a provider key for a project; the answer describes
// it without the key.
func (c *Client) AddProviderKey(ctx context.Context, id int64, req AddProviderKeyRequest) (patchpanda.ProviderKey, error) {
	var out patchpanda.ProviderKey
	err := c.Do(ctx, http.MethodPost, billingProjectPath(id)+"/provider-keys", nil, req, &out)
	return out, err
}

// RevokeProviderKey revokes a project's provider key.
func (c *Client) RevokeProviderKey(ctx context.Context, id, keyID int64) (patchpanda.ProviderKey, error) {
	var out patchpanda.ProviderKey
	err := c.Do(ctx, http.MethodDelete, billingProjectPath(id)+"/provider-keys/"+strconv.FormatInt(keyID, 10), nil, nil, &out)
	return out, err
}
