package relay

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/patchpanda/patchpanda/internal/config"
	"github.com/patchpanda/patchpanda/internal/dashboard"
	"github.com/patchpanda/patchpanda/internal/httpapi"
)

// webRoutes returns the dashboard's routes (with single sign-on configured)
// and /setup's (while no GitHub App is configured), and logs why either is
// off.
func (r *Relay) webRoutes(cfg Config, server *config.Server, logger *slog.Logger) ([]func(*http.ServeMux, *httpapi.Server), error) {
	var out []func(*http.ServeMux, *httpapi.Server)
	opts := dashboard.Options{
		Logger: logger, Grants: server.Dashboard.Grants, Sessions: r.DB,
		Coverage: r.Coverage, Jobs: r.Jobs, Keys: r.Keys, Audit: r.DB, Billing: r.Billing,
		IdleTimeout: sessionIdle, MaxAge: sessionMaxAge,
		OIDC: dashboard.OIDC{Issuer: cfg.OIDCIssuer, ClientID: cfg.OIDCClientID, ClientSecret: cfg.OIDCClientSecret, RedirectURL: cfg.OIDCRedirectURL},
	}
	idp := cfg.OIDCIssuer
	if cfg.GitHubOAuthClientID != "" {
		web, err := dashboard.WebURL(cfg.GitHubAPIURL)
		if err != nil {
			return nil, fmt.Errorf("PATCHPANDA_GITHUB_API_URL: %w", err)
		}
		opts.GitHub = dashboard.GitHubOAuth{ClientID: cfg.GitHubOAuthClientID, ClientSecret: cfg.GitHubOAuthClientSecret,
			RedirectURL: cfg.GitHubOAuthRedirectURL, WebURL: web}
		opts.GitHubUsers = r.GitHub
		idp = web
	}
	if opts.OIDC.Configured() || opts.GitHub.Configured() {
		d, err := dashboard.New(opts)
		if err != nil {
			return nil, err
		}
		out = append(out, d.Routes())
		if len(server.Dashboard.Grants) == 0 {
			logger.Warn("dashboard on at /ui/, but the server config grants no dashboard roles: everyone who signs in is refused (see dashboard.roles in docs/dashboard.md)")
		} else {
			logger.Info("dashboard on at /ui/", "identity_provider", idp, "grants", len(server.Dashboard.Grants))
		}
		r.workers = append(r.workers, r.expireSessions)
	} else {
		logger.Info("dashboard off: /ui/ answers 404 because single sign-on is not configured (set PATCHPANDA_OIDC_ISSUER, _CLIENT_ID, _CLIENT_SECRET and _REDIRECT_URL, or PATCHPANDA_GITHUB_OAUTH_CLIENT_ID, _CLIENT_SECRET and _REDIRECT_URL)")
	}
	if cfg.GitHubAppID == 0 {
		dir := "."
		if p := r.DB.Path(); p != "" && p != ":memory:" {
			dir = filepath.Dir(p)
		}
		s, err := dashboard.NewSetup(dashboard.SetupOptions{Logger: logger, APIURL: cfg.GitHubAPIURL, Secrets: r.Secrets, Dir: dir, Admin: r.Keys, Audit: r.DB})
		if err != nil {
			return nil, err
		}
		out = append(out, func(mux *http.ServeMux, _ *httpapi.Server) { s.Register(mux) })
		logger.Info("no GitHub App configured: open /setup on this machine (or with an admin key) to create one with GitHub's App manifest flow")
	}
	return out, nil
}

// sessionIdle and sessionMaxAge end dashboard sessions; expired rows are
// removed in the background so the table does not grow.
const (
	sessionIdle   = 8 * time.Hour
	sessionMaxAge = 7 * 24 * time.Hour
)

func (r *Relay) expireSessions(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		now := time.Now()
		if n, err := r.DB.DeleteSessionsBefore(ctx, now, now.Add(-sessionIdle)); err != nil && ctx.Err() == nil {
			r.Logger.Warn("remove expired dashboard sessions", "err", err)
		} else if n > 0 {
			r.Logger.Debug("removed expired dashboard sessions", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
