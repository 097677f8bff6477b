package cli

import (
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/authcmd"
	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/ghenv"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// DefaultRelay is the relay URL plain ppctl uses when none is configured.
// `gh patchpanda` has none: it would send the user's GitHub token there.
const DefaultRelay = "http://localhost:8080"

// resolver picks the relay and the credential of one run, and remembers
// them so that errors can name the relay that answered.
type resolver struct {
	extension bool
	getenv    func(string) string
	gh        func() (ghenv.GH, error)

	target   *factory.Target
	answered atomic.Bool // the relay answered an error status
}

func newResolver(extension bool, getenv func(string) string) *resolver {
	r := &resolver{extension: extension, getenv: getenv}
	if extension {
		r.gh = sync.OnceValues(ghenv.CurrentGH)
	}
	return r
}

// resolve returns the relay and credential the flags, environment and
// stored login ask for, in that order. As `gh patchpanda` the relay may
// also come from gh's config, the credential from gh's login, and there is
// no default relay. It returns an EINVALID error for a malformed relay URL,
// for no relay as `gh patchpanda`, and for a GitHub token that would go
// over plain http to a host that is not this machine.
func (r *resolver) resolve(cmd *cli.Command) (factory.Target, error) {
	var t factory.Target
	stored, storeErr := r.stored()
	switch {
	case cmd.String("relay") != "":
		t.Relay, t.RelaySource = cmd.String("relay"), "--relay or PATCHPANDA_RELAY_URL"
	case r.extension && ghenv.RelayFromGHConfig() != "":
		t.Relay, t.RelaySource = ghenv.RelayFromGHConfig(), "gh config "+ghenv.RelayConfigKey
	case stored.Relay != "":
		t.Relay, t.RelaySource = stored.Relay, "auth login"
	case r.extension:
		return t, patchpanda.Errorf(patchpanda.EINVALID, "no relay configured: name one with `gh patchpanda auth login --relay URL`, "+
			"`gh config set %s URL` or PATCHPANDA_RELAY_URL (your GitHub token goes only to a relay you name)", ghenv.RelayConfigKey)
	default:
		t.Relay, t.RelaySource = DefaultRelay, "default"
	}
	t.Relay = strings.TrimRight(t.Relay, "/")
	u, err := url.Parse(t.Relay)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return t, patchpanda.Errorf(patchpanda.EINVALID, "relay URL %q (from %s) is not an http(s) URL (set --relay or PATCHPANDA_RELAY_URL)", t.Relay, t.RelaySource)
	}
	switch {
	case cmd.String("token") != "":
		t.Token, t.TokenSource = cmd.String("token"), "--token or PATCHPANDA_TOKEN"
	case stored.Token != "" && strings.TrimRight(stored.Relay, "/") == t.Relay:
		t.Token, t.TokenSource = stored.Token, "auth login"
	case r.extension && !ghenv.InActions(r.getenv):
		// In GitHub Actions an upload without a token uses the job's
		// OIDC token, so gh's (often GITHUB_TOKEN) is not the default.
		g, _ := r.gh()
		if g.Token != "" {
			t.Token, t.TokenSource = g.Token, "gh auth"
		}
	}
	if storeErr != nil && t.Token == "" {
		return t, storeErr
	}
	t.Kind = credentialKind(t.Token, t.TokenSource)
	if t.Kind == factory.GitHubToken && !safeForGitHubToken(u) {
		return t, patchpanda.Errorf(patchpanda.EINVALID, "refusing to send a GitHub token to %s over plain http: use an https relay URL "+
			"(plain http only to this machine: localhost, 127.0.0.1, ::1)", t.Relay)
	}
	r.target = &t
	return t, nil
}

func (r *resolver) stored() (authcmd.Stored, error) {
	dir, err := authcmd.Dir(r.getenv)
	if err != nil {
		return authcmd.Stored{}, err
	}
	return authcmd.Load(dir)
}

// credentialKind names what a token is, for messages and the https rule.
func credentialKind(token, source string) string {
	switch {
	case token == "":
		return factory.NoCredential
	case source == "gh auth":
		return factory.GitHubToken
	case strings.HasPrefix(token, "ppk_"):
		return factory.APIKey
	case looksLikeGitHubToken(token):
		return factory.GitHubToken
	default:
		return factory.OtherToken
	}
}

// looksLikeGitHubToken reports whether token has one of GitHub's token
// prefixes (gho_, ghp_, ghu_, ghs_, ghr_, github_pat_).
func looksLikeGitHubToken(token string) bool {
	for _, p := range []string{"gho_", "ghp_", "ghu_", "ghs_", "ghr_", "github_pat_"} {
		if strings.HasPrefix(token, p) {
			return true
		}
	}
	return false
}

// safeForGitHubToken reports whether a GitHub token may be sent to u:
// over https, or over http to a loopback address, where it never leaves
// the machine.
func safeForGitHubToken(u *url.URL) bool {
	if u.Scheme == "https" {
		return true
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// noticeErrors is a transport that remembers whether the relay answered
// an error status, so that the error printed can say the relay said it.
type noticeErrors struct {
	next     http.RoundTripper
	answered *atomic.Bool
}

func (n noticeErrors) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := n.next.RoundTrip(req)
	if err == nil && resp.StatusCode >= 400 {
		n.answered.Store(true)
	}
	return resp, err
}

func osGetenv(k string) string { return os.Getenv(k) }
