package githubapp

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-github/v62/github"
)

// DefaultBaseURL is GitHub.com's REST API.
const DefaultBaseURL = "https://api.github.com"

// Config configures a Client. Only AppID, PrivateKeyPEM and BaseURL come
// from the operator; the rest exist for tests and tuning.
type Config struct {
	// AppID is the GitHub App's id, the JWT's issuer. Zero, with no
	// PrivateKeyPEM, makes a Client that makes no calls (see Enabled).
	AppID int64
	// PrivateKeyPEM is the App's private key, PKCS#1 or PKCS#8 PEM.
	PrivateKeyPEM []byte
	// BaseURL is the REST API root: DefaultBaseURL when empty, or
	// "https://HOST/api/v3" for GitHub Enterprise Server (used as given).
	BaseURL string
	// HTTPClient supplies the transport (http.DefaultTransport when nil).
	// Its Timeout, if set, bounds a whole call including retries.
	HTTPClient *http.Client
	// UserAgent is sent with every request; default "patchpanda-relay".
	UserAgent string

	// Now is the clock for JWTs, token expiry and rate-limit resets;
	// default time.Now.
	Now func() time.Time
	// Sleep waits between retries and returns early with ctx's error;
	// default a timer. Tests inject one that records and returns at once.
	Sleep func(ctx context.Context, d time.Duration) error
	// MaxRetries bounds retries per request; 0 means 4, negative means none.
	MaxRetries int
	// RetryBase is the first 5xx backoff, doubled per retry; default 1 s.
	RetryBase time.Duration
	// MaxWait is the longest single wait the client will sleep for a rate
	// limit or backoff; a longer one fails the call at once with
	// ErrRateLimited. Default 2 minutes.
	MaxWait time.Duration
	// AttemptTimeout bounds one HTTP attempt; default 30 s.
	AttemptTimeout time.Duration
	// Observe, when set, is called after every HTTP attempt with the
	// method, the route template (e.g. "/repos/{owner}/{repo}/pulls/{pull_number}"),
	// the status (0 for a transport error) and the duration. It is called
	// from concurrent calls and must be safe for that.
	Observe func(method, route string, status int, d time.Duration)
}

// Client makes the GitHub REST calls the relay needs, as the App (JWT) or
// as one of its installations (installation tokens, cached). It is safe for
// concurrent use.
type Client struct {
	cfg     Config
	log     *slog.Logger
	key     *rsa.PrivateKey
	gh      *github.Client // no credentials; each call adds its own
	enabled bool

	mu      sync.Mutex
	jwt     string
	jwtExp  time.Time
	tokens  map[string]*InstallationToken
	flights map[string]*flight
	owners  map[string]tokenOwner // installation token → its installation
	budget  *Budget
}

// New returns a Client for cfg that logs to logger (nothing when nil). With
// neither AppID nor PrivateKeyPEM it returns a disabled Client whose calls
// are logged and not made. It returns an error naming the problem for an
// App id without a key (or the reverse), a key that is not an RSA private
// key in PEM, or a bad BaseURL; the error never contains key material.
func New(cfg Config, logger *slog.Logger) (*Client, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Client{cfg: cfg, log: logger, tokens: map[string]*InstallationToken{}, flights: map[string]*flight{}}
	switch {
	case cfg.AppID < 0:
		return nil, fmt.Errorf("githubapp: App id %d: must be positive", cfg.AppID)
	case cfg.AppID == 0 && len(cfg.PrivateKeyPEM) > 0:
		return nil, errors.New("githubapp: a private key is set but no App id (PATCHPANDA_GITHUB_APP_ID)")
	case cfg.AppID > 0 && len(cfg.PrivateKeyPEM) == 0:
		return nil, errors.New("githubapp: an App id is set but no private key (PATCHPANDA_GITHUB_PRIVATE_KEY_FILE)")
	case cfg.AppID > 0:
		key, err := parsePrivateKey(cfg.PrivateKeyPEM)
		if err != nil {
			return nil, err
		}
		c.key, c.enabled = key, true
	}
	base, err := parseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if c.cfg.Now == nil {
		c.cfg.Now = time.Now
	}
	c.budget = newBudget(c.cfg.Now)
	c.owners = map[string]tokenOwner{}
	if c.cfg.Sleep == nil {
		c.cfg.Sleep = sleep
	}
	switch {
	case c.cfg.MaxRetries == 0:
		c.cfg.MaxRetries = 4
	case c.cfg.MaxRetries < 0:
		c.cfg.MaxRetries = 0
	}
	if c.cfg.RetryBase <= 0 {
		c.cfg.RetryBase = time.Second
	}
	if c.cfg.MaxWait <= 0 {
		c.cfg.MaxWait = 2 * time.Minute
	}
	if c.cfg.AttemptTimeout <= 0 {
		c.cfg.AttemptTimeout = 30 * time.Second
	}
	if c.cfg.UserAgent == "" {
		c.cfg.UserAgent = "patchpanda-relay"
	}
	hc := &http.Client{}
	var rt http.RoundTripper
	if cfg.HTTPClient != nil {
		rt = cfg.HTTPClient.Transport
		hc.Timeout = cfg.HTTPClient.Timeout
		hc.CheckRedirect = cfg.HTTPClient.CheckRedirect
	}
	if rt == nil {
		rt = http.DefaultTransport
	}
	hc.Transport = &transport{base: rt, c: c, attempt: c.cfg.AttemptTimeout}
	c.gh = github.NewClient(hc)
	c.gh.BaseURL = base
	c.gh.UserAgent = c.cfg.UserAgent
	return c, nil
}

// Enabled reports whether the Client makes real calls: false when it was
// built without App credentials (the embedded default), in which case every
// call is logged and returns a harmless zero result.
func (c *Client) Enabled() bool { return c.enabled }

// parsePrivateKey reads an RSA private key. Its errors describe the input
// by shape only, never by content.
func parsePrivateKey(b []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("githubapp: private key: no PEM block found (expected -----BEGIN RSA PRIVATE KEY-----)")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("githubapp: private key: PEM block %q is not a PKCS#1 or PKCS#8 private key", block.Type)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("githubapp: private key: PEM block %q holds a %T, GitHub Apps use RSA", block.Type, k)
	}
	return rk, nil
}

func parseBaseURL(s string) (*url.URL, error) {
	if s == "" {
		s = DefaultBaseURL
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("githubapp: API URL %q: want an absolute http(s) URL such as %s or https://HOST/api/v3", s, DefaultBaseURL)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}

func (c *Client) now() time.Time { return c.cfg.Now() }

// appJWT returns the App's JWT: RS256, iat 60 s back (clock drift), exp 9
// minutes ahead (GitHub allows 10), iss the App id. One is reused until a
// minute before it expires.
func (c *Client) appJWT() (string, error) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.jwt != "" && c.jwtExp.Sub(now) > time.Minute && c.jwtExp.Sub(now) <= 9*time.Minute {
		return c.jwt, nil
	}
	exp := now.Add(9 * time.Minute)
	claims := jwt.RegisteredClaims{
		Issuer:    strconv.FormatInt(c.cfg.AppID, 10),
		IssuedAt:  jwt.NewNumericDate(now.Add(-60 * time.Second)),
		ExpiresAt: jwt.NewNumericDate(exp),
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(c.key)
	if err != nil {
		return "", fmt.Errorf("githubapp: sign App JWT: %w", err)
	}
	c.jwt, c.jwtExp = s, exp
	return s, nil
}

// asApp returns a go-github client authenticated as the App.
func (c *Client) asApp() (*github.Client, error) {
	t, err := c.appJWT()
	if err != nil {
		return nil, err
	}
	return c.gh.WithAuthToken(t), nil
}

// asInstallation runs call with a client authenticated as the installation
// (its full token, cached). A 401 drops the cached token and tries once more
// with a new one, for a token revoked before its time.
func (c *Client) asInstallation(ctx context.Context, installationID int64, call func(gh *github.Client) error) error {
	for try := 0; ; try++ {
		tok, err := c.token(ctx, installationID, TokenRequest{})
		if err != nil {
			return err
		}
		err = call(c.gh.WithAuthToken(tok.Token))
		if try == 0 && rawStatus(err) == http.StatusUnauthorized {
			c.forget(installationID, TokenRequest{}, tok.Token)
			continue
		}
		return err
	}
}

// rawStatus returns the status of an error straight from go-github.
func rawStatus(err error) int {
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	return 0
}

// skip logs a call not made because no App is configured.
func (c *Client) skip(ctx context.Context, route string, attrs ...slog.Attr) {
	c.log.LogAttrs(ctx, slog.LevelInfo, "github call skipped: no GitHub App configured",
		append([]slog.Attr{slog.String("route", route)}, attrs...)...)
}
