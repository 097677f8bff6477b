// Package actionsoidc verifies GitHub Actions OIDC ID tokens, so that a CI
// job can upload coverage for its own repository without a stored secret.
// It is the only importer of github.com/coreos/go-oidc/v3.
package actionsoidc

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/sync/singleflight"

	"github.com/patchpanda/patchpanda/internal/ttlcache"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// DefaultIssuer is GitHub Actions' token issuer.
const DefaultIssuer = "https://token.actions.githubusercontent.com"

// DefaultAudience is the audience a workflow asks for when it requests an
// ID token for PatchPanda (core.getIDToken("patchpanda")).
const DefaultAudience = "patchpanda"

// KindActions is the Principal.Kind of a verified Actions token.
const KindActions = patchpanda.PrincipalActions

// Options configure a Verifier.
type Options struct {
	// Issuer is the trusted issuer URL; DefaultIssuer when empty.
	Issuer string
	// Audience is the required "aud"; DefaultAudience when empty.
	Audience string
	// HTTPClient fetches the discovery document and the JWKS;
	// http.DefaultClient when nil.
	HTTPClient *http.Client
	// Now is the clock for expiry checks; time.Now when nil.
	Now func() time.Time
	// KeyRefetchEvery is the least time between two fetches of the JWKS:
	// go-oidc fetches it again for every token whose signature does not
	// verify, so without it each forged token would cost a request to the
	// issuer. DefaultKeyRefetchEvery when 0.
	KeyRefetchEvery time.Duration
	// RejectedTTL is how long a refused token is remembered and refused
	// again without being checked; DefaultRejectedTTL when 0.
	RejectedTTL time.Duration
}

// Defaults of Options.
const (
	DefaultKeyRefetchEvery = time.Minute
	DefaultRejectedTTL     = time.Minute
	// discoveryRetry is how long a failed discovery is remembered, so that
	// a burst of tokens while the issuer is down costs one attempt.
	discoveryRetry = 10 * time.Second
)

// Claims are the claims of an Actions ID token PatchPanda uses.
type Claims struct {
	Subject         string `json:"sub"`
	Repository      string `json:"repository"` // owner/name
	RepositoryID    string `json:"repository_id"`
	RepositoryOwner string `json:"repository_owner"`
	// RepositoryOwnerID is the owner's id, a decimal string as GitHub
	// sends it.
	RepositoryOwnerID string `json:"repository_owner_id"`
	Ref               string `json:"ref"`
	SHA               string `json:"sha"`
	Workflow          string `json:"workflow"`
	RunID             string `json:"run_id"`
	Actor             string `json:"actor"`
	EventName         string `json:"event_name"`
	JobWorkflowRef    string `json:"job_workflow_ref"`
}

// Verifier checks Actions ID tokens: an RS256 signature by a key of the
// issuer's JWKS (fetched once and cached, fetched again for an unknown key
// id at most once per KeyRefetchEvery), the issuer, the audience and the
// expiry. It is safe for concurrent use and makes no request until the
// first token arrives.
type Verifier struct {
	opts     Options
	rejected *ttlcache.Cache[[32]byte, error]
	discover singleflight.Group

	mu       sync.Mutex // guards the fields below; never held across a request
	verifier *oidc.IDTokenVerifier
	failed   error     // the last discovery's failure
	failedAt time.Time // when it failed
}

// New returns a Verifier. It makes no network request, so a relay starts
// even when the issuer is unreachable; it returns an error only for an
// issuer that is not an absolute http(s) URL.
func New(opts Options) (*Verifier, error) {
	if opts.Issuer == "" {
		opts.Issuer = DefaultIssuer
	}
	if opts.Audience == "" {
		opts.Audience = DefaultAudience
	}
	if !strings.HasPrefix(opts.Issuer, "https://") && !strings.HasPrefix(opts.Issuer, "http://") {
		return nil, fmt.Errorf("actionsoidc: issuer %q is not an http(s) URL", opts.Issuer)
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = http.DefaultClient
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.KeyRefetchEvery <= 0 {
		opts.KeyRefetchEvery = DefaultKeyRefetchEvery
	}
	if opts.RejectedTTL <= 0 {
		opts.RejectedTTL = DefaultRejectedTTL
	}
	return &Verifier{opts: opts, rejected: ttlcache.New[[32]byte, error](opts.RejectedTTL, 10000, opts.Now)}, nil
}

// idTokenVerifier discovers the issuer on first use. Concurrent first uses
// share one discovery, which runs without holding the lock, and each caller
// waits only as long as its own context allows; a failed discovery is
// remembered for discoveryRetry, then tried again.
func (v *Verifier) idTokenVerifier(ctx context.Context) (*oidc.IDTokenVerifier, error) {
	v.mu.Lock()
	iv, failed, failedAt := v.verifier, v.failed, v.failedAt
	v.mu.Unlock()
	if iv != nil {
		return iv, nil
	}
	if failed != nil && v.opts.Now().Sub(failedAt) < discoveryRetry {
		return nil, failed
	}
	ch := v.discover.DoChan("discover", func() (any, error) {
		// Detached from any one caller: the result serves them all.
		dctx, cancel := context.WithTimeout(oidc.ClientContext(context.WithoutCancel(ctx), v.opts.HTTPClient), 15*time.Second)
		defer cancel()
		p, err := oidc.NewProvider(dctx, v.opts.Issuer)
		if err != nil {
			err = fmt.Errorf("actionsoidc: discover %s: %w", v.opts.Issuer,
				patchpanda.Errorf(patchpanda.EUNAVAILABLE, "the GitHub Actions token issuer %s does not answer; try again", v.opts.Issuer))
			v.mu.Lock()
			v.failed, v.failedAt = err, v.opts.Now()
			v.mu.Unlock()
			return nil, err
		}
		// The key set outlives this request: give it a context without the
		// request's cancellation, and a client that fetches the keys at
		// most once per KeyRefetchEvery.
		keys := &http.Client{Transport: &throttle{next: transport(v.opts.HTTPClient), every: v.opts.KeyRefetchEvery, now: v.opts.Now},
			Timeout: v.opts.HTTPClient.Timeout}
		kctx := oidc.ClientContext(context.WithoutCancel(ctx), keys)
		iv := p.VerifierContext(kctx, &oidc.Config{
			ClientID:             v.opts.Audience,
			SupportedSigningAlgs: []string{oidc.RS256},
			Now:                  v.opts.Now,
		})
		v.mu.Lock()
		v.verifier, v.failed = iv, nil
		v.mu.Unlock()
		return iv, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*oidc.IDTokenVerifier), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func transport(c *http.Client) http.RoundTripper {
	if c.Transport != nil {
		return c.Transport
	}
	return http.DefaultTransport
}

// throttle refuses a request made sooner than every after the previous
// one, without sending it. go-oidc then keeps its cached keys.
type throttle struct {
	next  http.RoundTripper
	every time.Duration
	now   func() time.Time

	mu   sync.Mutex
	last time.Time
}

func (t *throttle) RoundTrip(req *http.Request) (*http.Response, error) {
	t.mu.Lock()
	now := t.now()
	if !t.last.IsZero() && now.Sub(t.last) < t.every {
		t.mu.Unlock()
		return nil, errors.New("the key set was fetched less than a minute ago")
	}
	t.last = now
	t.mu.Unlock()
	return t.next.RoundTrip(req)
}

// Verify checks raw and returns its claims. It returns an EUNAUTHORIZED
// error for a token that is malformed, badly signed, expired, from another
// issuer, for another audience or without a repository claim, and an
// EUNAVAILABLE error when the issuer cannot be reached.
//
// A refused token is remembered (under its hash) for RejectedTTL and
// refused again with the same error without being checked.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Claims, error) {
	key := sha256.Sum256([]byte(raw))
	if err, ok := v.rejected.Get(key); ok {
		return nil, err
	}
	c, err := v.verify(ctx, raw)
	if patchpanda.ErrorCode(err) == patchpanda.EUNAUTHORIZED {
		v.rejected.Set(key, err)
	}
	return c, err
}

func (v *Verifier) verify(ctx context.Context, raw string) (*Claims, error) {
	iv, err := v.idTokenVerifier(ctx)
	if err != nil {
		return nil, err
	}
	tok, err := iv.Verify(ctx, raw)
	if err != nil {
		var expired *oidc.TokenExpiredError
		if errors.As(err, &expired) {
			return nil, patchpanda.Errorf(patchpanda.EUNAUTHORIZED, "the GitHub Actions ID token expired at %s", expired.Expiry.UTC().Format(time.RFC3339))
		}
		return nil, patchpanda.Errorf(patchpanda.EUNAUTHORIZED, "the GitHub Actions ID token is not valid: %s", strings.TrimPrefix(err.Error(), "oidc: "))
	}
	var c Claims
	if err := tok.Claims(&c); err != nil {
		return nil, patchpanda.Errorf(patchpanda.EUNAUTHORIZED, "the GitHub Actions ID token's claims do not decode: %v", err)
	}
	if _, _, err := patchpanda.ParseFullName(c.Repository); err != nil {
		return nil, patchpanda.Errorf(patchpanda.EUNAUTHORIZED, "the GitHub Actions ID token has no valid repository claim")
	}
	// Names change hands (rename, transfer, delete and re-create); ids do
	// not. A token without them cannot be tied to a repository.
	if _, err := c.IDs(); err != nil {
		return nil, err
	}
	return &c, nil
}

// IDs returns the repository_id and repository_owner_id claims as numbers.
// It returns an EUNAUTHORIZED error when either is missing or not a
// positive decimal number.
func (c *Claims) IDs() ([2]int64, error) {
	var out [2]int64
	for i, v := range []struct{ name, value string }{{"repository_id", c.RepositoryID}, {"repository_owner_id", c.RepositoryOwnerID}} {
		n, err := strconv.ParseInt(v.value, 10, 64)
		if err != nil || n <= 0 {
			return out, patchpanda.Errorf(patchpanda.EUNAUTHORIZED, "the GitHub Actions ID token has no valid %s claim", v.name)
		}
		out[i] = n
	}
	return out, nil
}

// Authenticate verifies an Actions ID token and returns a principal of Kind
// "actions" named for the token's repository and carrying its repository
// and owner ids, allowed only to upload coverage (the upload handler
// matches the repository id against the installation's repositories). It
// returns Verify's errors.
func (v *Verifier) Authenticate(ctx context.Context, token string) (*patchpanda.Principal, error) {
	c, err := v.Verify(ctx, token)
	if err != nil {
		return nil, err
	}
	ids, _ := c.IDs() // checked by Verify
	return &patchpanda.Principal{Kind: KindActions, Name: c.Repository, Scopes: []patchpanda.Scope{patchpanda.ScopeCoverageWrite},
		RepositoryID: ids[0], OwnerID: ids[1]}, nil
}

// Authenticator maps a bearer credential to a principal (httpapi's
// Authenticator, repeated here so this package needs no HTTP types).
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (*patchpanda.Principal, error)
}

// Chain picks the authenticator for a credential by its shape: an API key
// (ppk_…) goes to Keys, a JWT (three dot-separated parts) to Actions, and
// anything else to Other (a GitHub user token, say).
type Chain struct {
	Keys    Authenticator
	Actions Authenticator // nil: Actions tokens are refused
	Other   Authenticator // nil: other credentials are refused
}

// Authenticate returns the principal the chosen authenticator gives, or an
// EUNAUTHORIZED error when no authenticator takes this kind of credential.
func (c Chain) Authenticate(ctx context.Context, token string) (*patchpanda.Principal, error) {
	switch {
	case strings.HasPrefix(token, "ppk_") && c.Keys != nil:
		return c.Keys.Authenticate(ctx, token)
	case strings.Count(token, ".") == 2 && c.Actions != nil:
		return c.Actions.Authenticate(ctx, token)
	case c.Other != nil:
		return c.Other.Authenticate(ctx, token)
	case c.Keys != nil:
		// The key authenticator explains what a key looks like.
		return c.Keys.Authenticate(ctx, token)
	}
	return nil, patchpanda.Errorf(patchpanda.EUNAUTHORIZED, "this relay does not accept this kind of credential")
}
