package githubapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// refreshBefore is how long before expiry a cached token is replaced.
const refreshBefore = time.Minute

// TokenRequest narrows an installation token. The zero value asks for
// everything the installation has.
type TokenRequest struct {
	// Repositories are repository names without the owner (the owner is
	// the installation's account).
	Repositories []string
	// RepositoryIDs are repository ids; they combine with Repositories.
	RepositoryIDs []int64
	// Permissions maps a permission name ("contents", "pull_requests",
	// "checks", ...) to "read", "write" or "admin".
	Permissions map[string]string
	// MinValidity makes a cached token that expires sooner than this count
	// as stale; the default (and minimum) is one minute.
	MinValidity time.Duration
}

// InstallationToken is a token minted for an installation. Its String and
// LogValue hide the token, so logging one leaks nothing.
type InstallationToken struct {
	Token     string
	ExpiresAt time.Time
	// Permissions are those GitHub granted the token.
	Permissions map[string]string
	// Repositories are "owner/name" of the repositories the token is
	// limited to; nil means all of the installation's.
	Repositories []string
}

// String describes the token without its value.
func (t InstallationToken) String() string {
	return fmt.Sprintf("installation token (expires %s, repositories %v, permissions %v)",
		t.ExpiresAt.UTC().Format(time.RFC3339), t.Repositories, t.Permissions)
}

// GoString describes the token without its value, for %#v.
func (t InstallationToken) GoString() string { return t.String() }

// LogValue describes the token to slog without its value.
func (t InstallationToken) LogValue() slog.Value {
	return slog.GroupValue(slog.Time("expires_at", t.ExpiresAt), slog.Any("repositories", t.Repositories))
}

func (t *InstallationToken) clone() *InstallationToken {
	cp := *t
	cp.Permissions = maps.Clone(t.Permissions)
	cp.Repositories = slices.Clone(t.Repositories)
	return &cp
}

// flight is one mint in progress that other callers wait for.
type flight struct {
	done chan struct{}
	tok  *InstallationToken
	err  error
}

// Token returns an installation token narrowed to req, minting one with
// POST /app/installations/{id}/access_tokens when no cached token for the
// same installation and request is valid for more than a minute (or
// req.MinValidity). Concurrent callers with the same request share one
// mint. It returns an EINVALID error for a malformed request (checked
// before any call), an error wrapping ErrNotFound for an unknown
// installation and ErrInvalid for repositories or permissions the
// installation lacks. Without App credentials it returns an empty token and
// no error.
func (c *Client) Token(ctx context.Context, installationID int64, req TokenRequest) (*InstallationToken, error) {
	if _, err := tokenOptions(req); err != nil {
		return nil, fmt.Errorf("githubapp: token for installation %d: %w", installationID, err)
	}
	if !c.enabled {
		c.skip(ctx, "POST /app/installations/{installation_id}/access_tokens",
			slog.Int64("installation_id", installationID), slog.Any("repositories", req.Repositories))
		return &InstallationToken{}, nil
	}
	return c.token(ctx, installationID, req)
}

func (c *Client) token(ctx context.Context, installationID int64, req TokenRequest) (*InstallationToken, error) {
	opts, err := tokenOptions(req)
	if err != nil {
		return nil, fmt.Errorf("githubapp: token for installation %d: %w", installationID, err)
	}
	key := cacheKey(installationID, req)
	valid := max(req.MinValidity, refreshBefore)
	for {
		c.mu.Lock()
		if t := c.tokens[key]; t != nil && t.ExpiresAt.Sub(c.now()) > valid {
			c.mu.Unlock()
			return t.clone(), nil
		}
		if f := c.flights[key]; f != nil {
			c.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return nil, fmt.Errorf("githubapp: token for installation %d: %w", installationID, ctx.Err())
			}
			// A mint that failed only because its caller gave up is no
			// answer for us: try again.
			if f.err != nil && (errors.Is(f.err, context.Canceled) || errors.Is(f.err, context.DeadlineExceeded)) && ctx.Err() == nil {
				continue
			}
			if f.err != nil {
				return nil, f.err
			}
			if f.tok.ExpiresAt.Sub(c.now()) > valid {
				return f.tok.clone(), nil
			}
			continue
		}
		f := &flight{done: make(chan struct{})}
		c.flights[key] = f
		c.mu.Unlock()

		f.tok, f.err = c.mint(ctx, installationID, opts)
		c.mu.Lock()
		delete(c.flights, key)
		if f.err == nil {
			c.pruneLocked()
			c.tokens[key] = f.tok
			c.rememberTokenLocked(f.tok, installationID)
		}
		close(f.done)
		c.mu.Unlock()
		if f.err != nil {
			return nil, f.err
		}
		return f.tok.clone(), nil
	}
}

// forget drops the cached token for (installationID, req) if it is still
// tok, so that the next call mints a new one.
func (c *Client) forget(installationID int64, req TokenRequest, tok string) {
	key := cacheKey(installationID, req)
	c.mu.Lock()
	defer c.mu.Unlock()
	if t := c.tokens[key]; t != nil && t.Token == tok {
		delete(c.tokens, key)
	}
}

// pruneLocked drops expired tokens so the cache stays as small as the set
// of live ones.
func (c *Client) pruneLocked() {
	now := c.now()
	for k, t := range c.tokens {
		if !t.ExpiresAt.After(now) {
			delete(c.tokens, k)
		}
	}
}

func (c *Client) mint(ctx context.Context, installationID int64, opts *github.InstallationTokenOptions) (*InstallationToken, error) {
	op := "create token for installation " + strconv.FormatInt(installationID, 10)
	gh, err := c.asApp()
	if err != nil {
		return nil, err
	}
	ctx = withRoute(ctx, "/app/installations/{installation_id}/access_tokens")
	t, _, err := gh.Apps.CreateInstallationToken(ctx, installationID, opts)
	if err != nil {
		return nil, c.classify(op, err)
	}
	if t.GetToken() == "" {
		return nil, fmt.Errorf("githubapp: %s: GitHub returned no token", op)
	}
	out := &InstallationToken{Token: t.GetToken(), ExpiresAt: t.GetExpiresAt().Time}
	if out.ExpiresAt.IsZero() {
		// GitHub always sends expires_at; should it not, assume the
		// documented hour rather than caching forever.
		out.ExpiresAt = c.now().Add(time.Hour)
	}
	if t.Permissions != nil {
		b, err := json.Marshal(t.Permissions)
		if err == nil {
			_ = json.Unmarshal(b, &out.Permissions)
		}
	}
	if opts != nil && (len(opts.Repositories) > 0 || len(opts.RepositoryIDs) > 0) {
		for _, r := range t.Repositories {
			out.Repositories = append(out.Repositories, r.GetFullName())
		}
	}
	return out, nil
}

var accessLevels = []string{"read", "write", "admin"}

// tokenOptions checks req and turns it into go-github's request. Every
// permission name must be one go-github knows: an unknown one would be
// dropped silently, and a token meant to be narrow would come back wide.
func tokenOptions(req TokenRequest) (*github.InstallationTokenOptions, error) {
	if len(req.Repositories) == 0 && len(req.RepositoryIDs) == 0 && len(req.Permissions) == 0 {
		return nil, nil
	}
	opts := &github.InstallationTokenOptions{RepositoryIDs: req.RepositoryIDs}
	for _, r := range req.Repositories {
		if r == "" || strings.Contains(r, "/") {
			return nil, patchpanda.Errorf(patchpanda.EINVALID, "repositories: %q must be a repository name without its owner", r)
		}
		opts.Repositories = append(opts.Repositories, r)
	}
	for _, id := range req.RepositoryIDs {
		if id <= 0 {
			return nil, patchpanda.Errorf(patchpanda.EINVALID, "repository_ids: %d is not a repository id", id)
		}
	}
	if len(req.Permissions) > 0 {
		for name, level := range req.Permissions {
			if !slices.Contains(accessLevels, level) {
				return nil, patchpanda.Errorf(patchpanda.EINVALID, "permissions: %s: %q is not read, write or admin", name, level)
			}
		}
		b, _ := json.Marshal(req.Permissions)
		var p github.InstallationPermissions
		if err := json.Unmarshal(b, &p); err != nil {
			return nil, patchpanda.Errorf(patchpanda.EINVALID, "permissions: %v", err)
		}
		back, _ := json.Marshal(p)
		var kept map[string]string
		_ = json.Unmarshal(back, &kept)
		for _, name := range slices.Sorted(maps.Keys(req.Permissions)) {
			if _, ok := kept[name]; !ok {
				return nil, patchpanda.Errorf(patchpanda.EINVALID, "permissions: %q is not a GitHub App permission", name)
			}
		}
		opts.Permissions = &p
	}
	return opts, nil
}

// cacheKey identifies a token by installation and narrowing, independent
// of the order repositories and permissions were given in.
func cacheKey(installationID int64, req TokenRequest) string {
	repos := slices.Clone(req.Repositories)
	for i := range repos {
		repos[i] = strings.ToLower(repos[i])
	}
	slices.Sort(repos)
	repos = slices.Compact(repos)
	ids := slices.Clone(req.RepositoryIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	var b strings.Builder
	fmt.Fprintf(&b, "%d|%s|%v|", installationID, strings.Join(repos, ","), ids)
	for _, k := range slices.Sorted(maps.Keys(req.Permissions)) {
		fmt.Fprintf(&b, "%s=%s,", k, req.Permissions[k])
	}
	return b.String()
}
