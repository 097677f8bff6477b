package relay

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/actionsoidc"
	"github.com/patchpanda/patchpanda/internal/audit"
	"github.com/patchpanda/patchpanda/internal/coveragesvc"
	"github.com/patchpanda/patchpanda/internal/githubapp"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/intake"
	"github.com/patchpanda/patchpanda/internal/jobs"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/spelling"
	"github.com/patchpanda/patchpanda/internal/store"
	"github.com/patchpanda/patchpanda/internal/webhook"
)

// Config is every setting of the relay. Each comes from a flag of `relay
// serve` or the environment variable beside it (flags win), through its
// row of the settings table; a field a Config built in code leaves zero
// takes the row's default when the relay opens.
type Config struct {
	Addr              string
	DatabaseURL       string
	QueueBackend      string
	RedisURL          string
	SQSQueueURL       string
	WebhookSecrets    []string
	GitHubAppID       int64
	GitHubPrivateKey  string // file path
	GitHubAPIURL      string
	ServerConfig      string // file path
	SecretsKeeper     string
	ActionsOIDCIssuer string
	OIDCIssuer        string
	OIDCClientID      string
	OIDCClientSecret  string
	OIDCRedirectURL   string
	NoMigrate         bool
	LogLevel          string
	LogFormat         string
	ShutdownTimeout   time.Duration
	DeliveryLease     time.Duration
	JobHeartbeat      time.Duration
	StuckJobPolicy    string
	RedeliveryWindow  time.Duration
	RedeliveryEvery   time.Duration

	ActionsOIDCAudience      string
	CoverageBlobURL          string
	CoverageMaxUploadBytes   int64
	CoverageUploadsPerMinute int

	// GitHubOAuth* sign people in to the dashboard with GitHub (an OAuth
	// App), instead of an OIDC identity provider.
	GitHubOAuthClientID     string
	GitHubOAuthClientSecret string
	GitHubOAuthRedirectURL  string
	// AuditCheckpointEvery is how many new audit events make a signed
	// checkpoint of the chain's head.
	AuditCheckpointEvery int64
	RepublishQueuedAfter time.Duration
	// Limits (docs/configuration.md, "Limits").
	WebhookMaxBytes        int64
	WebhookMemory          int64
	WebhookReadTimeout     time.Duration
	ReadHeaderTimeout      time.Duration
	ReadTimeout            time.Duration
	WriteTimeout           time.Duration
	IdleTimeout            time.Duration
	MaxHeaderBytes         int64
	CoverageUploadTimeout  time.Duration
	AuthFailuresPerMinute  int
	LongPollsPerKey        int
	ConcurrentUploads      int
	CoverageMaxFiles       int64
	CoverageMaxLines       int64
	CoverageMaxXMLDepth    int64
	CoverageMaxXMLElements int64
	CoverageMaxCommitLines int64
}

// A setting is one row of the relay's settings: the flag of `relay serve`,
// the environment variable beside it, what it means, its default and the
// parser that writes its value into a Config. The flags, configFrom, the
// defaults of a Config built in code and the docs' test all read this one
// table, so a setting added here is parsed, documented and defaulted.
type setting struct {
	flag, env, usage string
	// def is the default as `relay serve --help` shows it, "" for none.
	// Where a package keeps a default of its own (for its tests and other
	// callers), def is rendered from that constant: one definition each.
	def string
	value
}

// value parses a setting's text into the Config field it is bound to.
type value struct {
	// set parses s into the field. Its error says what is wrong with s;
	// the caller names the setting.
	set func(s string) error
	// zero reports whether the field holds its type's zero value: left
	// out of a Config built in code.
	zero func() bool
	// isBool makes the flag a switch (--no-migrate) rather than a value.
	isBool bool
}

// settings returns the table with each row bound to a field of c.
func (c *Config) settings() []setting {
	return []setting{
		{"addr", "PATCHPANDA_ADDR", "listen address", ":8080", hostPortInto(&c.Addr)},
		{"database-url", "PATCHPANDA_DATABASE_URL", "sqlite:PATH or postgres://…", "sqlite:patchpanda.db", databaseURLInto(&c.DatabaseURL)},
		{"queue-backend", "PATCHPANDA_QUEUE_BACKEND", "db, redis or sqs", "db", oneOfInto(&c.QueueBackend, "db", "redis", "sqs")},
		{"redis-url", "PATCHPANDA_REDIS_URL", "Redis URL, for the redis queue backend", "", textInto(&c.RedisURL)},
		{"sqs-queue-url", "PATCHPANDA_SQS_QUEUE_URL", "SQS queue URL, for the sqs queue backend", "", textInto(&c.SQSQueueURL)},
		{"webhook-secret", "PATCHPANDA_WEBHOOK_SECRET", "webhook secrets, comma-separated; any one verifies", "", listInto(&c.WebhookSecrets)},
		{"github-app-id", "PATCHPANDA_GITHUB_APP_ID", "the GitHub App's id", "", intInto(&c.GitHubAppID, 1, 0)},
		{"github-private-key-file", "PATCHPANDA_GITHUB_PRIVATE_KEY_FILE", "the GitHub App's private key (PEM)", "", fileInto(&c.GitHubPrivateKey)},
		{"github-api-url", "PATCHPANDA_GITHUB_API_URL", "GitHub REST base URL (GitHub Enterprise: https://HOST/api/v3)", githubapp.DefaultBaseURL, baseURLInto(&c.GitHubAPIURL)},
		{"server-config", "PATCHPANDA_SERVER_CONFIG", "server-side YAML config file", "", fileInto(&c.ServerConfig)},
		{"secrets-keeper", "PATCHPANDA_SECRETS_KEEPER", "secrets keeper URL; default: a local key file beside the database", "", textInto(&c.SecretsKeeper)},
		{"actions-oidc-issuer", "PATCHPANDA_ACTIONS_OIDC_ISSUER", "issuer trusted for GitHub Actions ID tokens", actionsoidc.DefaultIssuer, httpURLInto(&c.ActionsOIDCIssuer)},
		{"actions-oidc-audience", "PATCHPANDA_ACTIONS_OIDC_AUDIENCE", "required audience (aud) of GitHub Actions ID tokens", actionsoidc.DefaultAudience, textInto(&c.ActionsOIDCAudience)},
		{"coverage-blob-url", "PATCHPANDA_COVERAGE_BLOB_URL", "gocloud.dev bucket URL for raw coverage uploads (file:///dir); default: a coverage/ directory beside the SQLite database", "", textInto(&c.CoverageBlobURL)},
		{"coverage-max-upload", "PATCHPANDA_COVERAGE_MAX_UPLOAD", "largest coverage report accepted, decompressed, in bytes or with a KB/MB/GB suffix", sizeText(coveragesvc.DefaultMaxUploadBytes), sizeInto(&c.CoverageMaxUploadBytes)},
		{"coverage-uploads-per-minute", "PATCHPANDA_COVERAGE_UPLOADS_PER_MINUTE", "coverage uploads allowed per repository per minute (0: no limit)", strconv.Itoa(coveragesvc.DefaultUploadsPerMinute), limitInto(&c.CoverageUploadsPerMinute)},
		{"oidc-issuer", "PATCHPANDA_OIDC_ISSUER", "dashboard single sign-on issuer", "", textInto(&c.OIDCIssuer)},
		{"oidc-client-id", "PATCHPANDA_OIDC_CLIENT_ID", "dashboard single sign-on client id", "", textInto(&c.OIDCClientID)},
		{"oidc-client-secret", "PATCHPANDA_OIDC_CLIENT_SECRET", "dashboard single sign-on client secret", "", textInto(&c.OIDCClientSecret)},
		{"oidc-redirect-url", "PATCHPANDA_OIDC_REDIRECT_URL", "dashboard single sign-on redirect URL", "", textInto(&c.OIDCRedirectURL)},
		{"log-level", "PATCHPANDA_LOG_LEVEL", "debug, info, warn or error", "info", oneOfInto(&c.LogLevel, "debug", "info", "warn", "error")},
		{"log-format", "PATCHPANDA_LOG_FORMAT", "text or json", "text", oneOfInto(&c.LogFormat, "text", "json")},
		{"delivery-lease", "PATCHPANDA_DELIVERY_LEASE", "how long a relay owns a delivery it is processing before another relay may take it over", durationText(intake.DefaultLease), durationInto(&c.DeliveryLease, time.Second, 0)},
		{"job-heartbeat", "PATCHPANDA_JOB_HEARTBEAT", "how long a running job may go without an event from its worker before it counts as stuck", durationText(jobs.DefaultHeartbeat), durationInto(&c.JobHeartbeat, time.Second, 0)},
		{"stuck-job-policy", "PATCHPANDA_STUCK_JOB_POLICY", "what happens to a stuck job: requeue or fail", jobs.DefaultStuckPolicy, oneOfInto(&c.StuckJobPolicy, "requeue", "fail")},
		{"redelivery-window", "PATCHPANDA_REDELIVERY_WINDOW", "how far back the reconciler looks for failed deliveries to ask GitHub to redeliver (GitHub keeps 3 days)", durationText(intake.DefaultRedeliveryWindow), durationInto(&c.RedeliveryWindow, 0, 72*time.Hour)},
		{"redelivery-interval", "PATCHPANDA_REDELIVERY_INTERVAL", "how often the reconciler runs", durationText(intake.DefaultRedeliveryInterval), durationInto(&c.RedeliveryEvery, time.Second, 0)},
		{"shutdown-timeout", "PATCHPANDA_SHUTDOWN_TIMEOUT", "how long a graceful shutdown waits for in-flight work", "30s", durationInto(&c.ShutdownTimeout, 0, 0)},
		{"github-oauth-client-id", "PATCHPANDA_GITHUB_OAUTH_CLIENT_ID", "dashboard sign-in with GitHub: the OAuth App's client id", "", textInto(&c.GitHubOAuthClientID)},
		{"github-oauth-client-secret", "PATCHPANDA_GITHUB_OAUTH_CLIENT_SECRET", "dashboard sign-in with GitHub: the OAuth App's client secret", "", textInto(&c.GitHubOAuthClientSecret)},
		{"github-oauth-redirect-url", "PATCHPANDA_GITHUB_OAUTH_REDIRECT_URL", "dashboard sign-in with GitHub: the redirect URL, https://RELAY/auth/callback", "", textInto(&c.GitHubOAuthRedirectURL)},
		{"audit-checkpoint-every", "PATCHPANDA_AUDIT_CHECKPOINT_EVERY", "how many new audit events make a signed checkpoint of the chain's head (also taken at start and shutdown, and logged)", strconv.Itoa(audit.DefaultCheckpointEvery), intInto(&c.AuditCheckpointEvery, 1, 1_000_000)},
		{"republish-queued-after", "PATCHPANDA_REPUBLISH_QUEUED_AFTER", "how long a job may stay queued after its publication to Redis or SQS before it is published again (the queue may have lost it)", "15m", durationInto(&c.RepublishQueuedAfter, time.Second, 0)},
		{"webhook-max-bytes", "PATCHPANDA_WEBHOOK_MAX_BYTES", "largest webhook body accepted (GitHub sends at most 25MB)", sizeText(webhook.DefaultMaxBytes), sizeInto(&c.WebhookMaxBytes)},
		{"webhook-memory", "PATCHPANDA_WEBHOOK_MEMORY", "memory that webhook bodies over 64KB may hold at once; a body that does not fit is answered 503 with Retry-After", sizeText(httpapi.DefaultWebhookMemory), sizeInto(&c.WebhookMemory)},
		{"webhook-read-timeout", "PATCHPANDA_WEBHOOK_READ_TIMEOUT", "how long a webhook body may take to arrive", durationText(httpapi.DefaultWebhookReadTimeout), durationInto(&c.WebhookReadTimeout, time.Second, 0)},
		{"read-header-timeout", "PATCHPANDA_READ_HEADER_TIMEOUT", "how long a request's headers may take to arrive", "10s", durationInto(&c.ReadHeaderTimeout, time.Second, 0)},
		{"read-timeout", "PATCHPANDA_READ_TIMEOUT", "how long a whole request may take to arrive (coverage uploads and webhooks have their own)", "30s", durationInto(&c.ReadTimeout, time.Second, 0)},
		{"write-timeout", "PATCHPANDA_WRITE_TIMEOUT", "how long an answer may take (long polls and coverage uploads get longer)", "60s", durationInto(&c.WriteTimeout, time.Second, 0)},
		{"idle-timeout", "PATCHPANDA_IDLE_TIMEOUT", "how long a keep-alive connection may idle between requests", "2m", durationInto(&c.IdleTimeout, time.Second, 0)},
		{"max-header-bytes", "PATCHPANDA_MAX_HEADER_BYTES", "largest request line and headers accepted (431 beyond)", "64KB", sizeInto(&c.MaxHeaderBytes)},
		{"coverage-upload-timeout", "PATCHPANDA_COVERAGE_UPLOAD_TIMEOUT", "how long a coverage upload may take to send its body and be answered", durationText(httpapi.DefaultUploadTimeout), durationInto(&c.CoverageUploadTimeout, time.Second, 0)},
		{"auth-failures-per-minute", "PATCHPANDA_AUTH_FAILURES_PER_MINUTE", "rejected credentials one client address may send a minute before its requests get 429 (0: no limit)", strconv.Itoa(httpapi.DefaultAuthFailuresPerMinute), limitInto(&c.AuthFailuresPerMinute)},
		{"long-polls-per-key", "PATCHPANDA_LONG_POLLS_PER_KEY", "concurrent POST /api/worker/lease?wait= per credential (0: no limit)", strconv.Itoa(httpapi.DefaultLongPollsPerKey), limitInto(&c.LongPollsPerKey)},
		{"coverage-concurrent-uploads", "PATCHPANDA_COVERAGE_CONCURRENT_UPLOADS", "coverage uploads processed at once; more are answered 503 with Retry-After (0: no limit)", strconv.Itoa(httpapi.DefaultConcurrentUploads), limitInto(&c.ConcurrentUploads)},
		{"coverage-max-files", "PATCHPANDA_COVERAGE_MAX_FILES", "most source files one coverage report may name", strconv.Itoa(coveragesvc.DefaultLimits.MaxFiles), intInto(&c.CoverageMaxFiles, 1, 0)},
		{"coverage-max-lines", "PATCHPANDA_COVERAGE_MAX_LINES", "most line records one coverage report may expand to (a Go block counts every line it spans)", strconv.FormatInt(coveragesvc.DefaultLimits.MaxLines, 10), intInto(&c.CoverageMaxLines, 1, 0)},
		{"coverage-max-xml-depth", "PATCHPANDA_COVERAGE_MAX_XML_DEPTH", "deepest element nesting a coverage XML report may have", strconv.Itoa(coveragesvc.DefaultLimits.MaxDepth), intInto(&c.CoverageMaxXMLDepth, 8, 0)},
		{"coverage-max-xml-elements", "PATCHPANDA_COVERAGE_MAX_XML_ELEMENTS", "most elements a coverage XML report may have", strconv.FormatInt(coveragesvc.DefaultLimits.MaxElements, 10), intInto(&c.CoverageMaxXMLElements, 1, 0)},
		{"coverage-max-commit-lines", "PATCHPANDA_COVERAGE_MAX_COMMIT_LINES", "most line records all coverage reports of one commit may hold together", strconv.Itoa(coveragesvc.DefaultMaxCommitLines), intInto(&c.CoverageMaxCommitLines, 1, 0)},
		{"no-migrate", "PATCHPANDA_NO_MIGRATE", "do not apply migrations at start", "", boolInto(&c.NoMigrate)},
	}
}

// flags returns the flags of the settings named, or of every setting when
// none is named.
func flags(names ...string) []cli.Flag {
	var out []cli.Flag
	for _, s := range new(Config).settings() {
		if len(names) > 0 && !slices.Contains(names, s.flag) {
			continue
		}
		if s.isBool {
			out = append(out, &cli.BoolFlag{Name: s.flag, Usage: s.usage, Sources: cli.EnvVars(s.env)})
			continue
		}
		out = append(out, &cli.StringFlag{Name: s.flag, Usage: s.usage, Value: s.def, Sources: cli.EnvVars(s.env)})
	}
	return out
}

func envOf(flag string) string {
	for _, s := range new(Config).settings() {
		if s.flag == flag {
			return s.env
		}
	}
	return ""
}

// configFrom reads and validates every setting of cmd, and refuses the
// PATCHPANDA_ variables of environ that are no setting (see
// unknownVariables). Its error has one line per bad setting, each naming
// the variable, the flag and what is wrong.
func configFrom(cmd *cli.Command, environ []string) (Config, error) {
	var c Config
	errs := c.read(func(s setting) string {
		if s.isBool {
			return strconv.FormatBool(cmd.Bool(s.flag))
		}
		return cmd.String(s.flag)
	})
	errs = append(errs, c.check(cmd.String)...)
	errs = append(errs, unknownVariables(environ)...)
	return c, errors.Join(errs...)
}

// read parses every setting's text, as get returns it, into c. A setting
// without a default that is given no text is left unset. It returns one
// error per setting whose text does not parse.
func (c *Config) read(get func(setting) string) []error {
	var errs []error
	for _, s := range c.settings() {
		v := get(s)
		if v == "" && s.def == "" {
			continue
		}
		if err := s.set(v); err != nil {
			errs = append(errs, fmt.Errorf("%s (--%s): %w", s.env, s.flag, err))
		}
	}
	return errs
}

// check returns one error per rule between settings that c breaks: what a
// queue backend needs, the App's id and key, and the sign-in groups. given
// returns a setting's text by flag, to tell "not set" from "not valid"
// (which read has reported).
func (c *Config) check(given func(flag string) string) []error {
	var errs []error
	bad := func(flag, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s (--%s): %s", envOf(flag), flag, fmt.Sprintf(format, args...)))
	}
	switch c.QueueBackend {
	case "redis":
		if c.RedisURL == "" {
			bad("redis-url", "required when the queue backend is redis")
		} else if u, err := url.Parse(c.RedisURL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
			bad("redis-url", "must be a redis:// or rediss:// URL")
		}
	case "sqs":
		if c.SQSQueueURL == "" {
			bad("sqs-queue-url", "required when the queue backend is sqs")
		} else if u, err := url.Parse(c.SQSQueueURL); err != nil || u.Host == "" {
			bad("sqs-queue-url", "must be an https:// queue URL")
		}
	}
	switch {
	case c.GitHubAppID != 0 && given("github-private-key-file") == "":
		bad("github-private-key-file", "required when the GitHub App id is set")
	case given("github-private-key-file") != "" && given("github-app-id") == "":
		bad("github-app-id", "required when a private key file is set")
	}
	sso := []string{c.OIDCIssuer, c.OIDCClientID, c.OIDCClientSecret, c.OIDCRedirectURL}
	if n := countSet(sso); n != 0 && n != len(sso) {
		bad("oidc-issuer", "single sign-on needs all of PATCHPANDA_OIDC_ISSUER, _CLIENT_ID, _CLIENT_SECRET and _REDIRECT_URL")
	}
	gho := []string{c.GitHubOAuthClientID, c.GitHubOAuthClientSecret, c.GitHubOAuthRedirectURL}
	switch n := countSet(gho); {
	case n != 0 && n != len(gho):
		bad("github-oauth-client-id", "sign-in with GitHub needs all of PATCHPANDA_GITHUB_OAUTH_CLIENT_ID, _CLIENT_SECRET and _REDIRECT_URL")
	case n != 0 && countSet(sso) != 0:
		bad("github-oauth-client-id", "the dashboard signs in with OIDC (PATCHPANDA_OIDC_*) or with GitHub, not both")
	case n != 0 && c.GitHubAppID == 0:
		bad("github-oauth-client-id", "sign-in with GitHub needs the GitHub App (PATCHPANDA_GITHUB_APP_ID), to ask GitHub who signed in")
	}
	return errs
}

// withDefaults returns c with each setting it leaves zero at the setting's
// default, as `relay serve` would have it, so a Config built in code needs
// only what it changes. It fails only on a default that does not parse.
func (c Config) withDefaults() (Config, error) {
	for _, s := range c.settings() {
		if s.def != "" && s.zero() {
			if err := s.set(s.def); err != nil {
				return c, fmt.Errorf("%s: default %q: %w", s.env, s.def, err)
			}
		}
	}
	return c, nil
}

// Parsers of the settings' rows. Each binds to one Config field.

// field binds dst to parse.
func field[T comparable](dst *T, parse func(string) (T, error)) value {
	return value{
		set: func(s string) error {
			v, err := parse(s)
			if err != nil {
				return err
			}
			*dst = v
			return nil
		},
		zero: func() bool { var z T; return *dst == z },
	}
}

// textInto takes any text.
func textInto(dst *string) value {
	return field(dst, func(s string) (string, error) { return s, nil })
}

// oneOfInto takes one of choices.
func oneOfInto(dst *string, choices ...string) value {
	return field(dst, func(s string) (string, error) {
		if slices.Contains(choices, s) {
			return s, nil
		}
		if len(choices) == 2 {
			return "", fmt.Errorf("%q is not %s or %s", s, choices[0], choices[1])
		}
		return "", fmt.Errorf("%q is not one of %s", s, strings.Join(choices, ", "))
	})
}

// hostPortInto takes a listen address.
func hostPortInto(dst *string) value {
	return field(dst, func(s string) (string, error) {
		if _, _, err := net.SplitHostPort(s); err != nil {
			return "", fmt.Errorf("%q is not host:port (e.g. :8080)", s)
		}
		return s, nil
	})
}

// databaseURLInto takes a database URL the store can open.
func databaseURLInto(dst *string) value {
	return field(dst, func(s string) (string, error) {
		if err := store.CheckURL(s); err != nil {
			return "", errors.New(patchpanda.ErrorMessage(err))
		}
		return s, nil
	})
}

// httpURLInto takes an http(s) URL with a host.
func httpURLInto(dst *string) value {
	return field(dst, parseHTTPURL)
}

// baseURLInto takes an http(s) URL with a host, without trailing slashes.
func baseURLInto(dst *string) value {
	return field(dst, func(s string) (string, error) { return parseHTTPURL(strings.TrimRight(s, "/")) })
}

func parseHTTPURL(s string) (string, error) {
	if u, err := url.Parse(s); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("%q is not an http(s) URL", s)
	}
	return s, nil
}

// fileInto takes the path of a readable file.
func fileInto(dst *string) value {
	return field(dst, func(s string) (string, error) { return s, readable(s) })
}

// listInto takes comma-separated items, blanks dropped.
func listInto(dst *[]string) value {
	return value{
		set: func(s string) error {
			var out []string
			for _, v := range strings.Split(s, ",") {
				if v = strings.TrimSpace(v); v != "" {
					out = append(out, v)
				}
			}
			*dst = out
			return nil
		},
		zero: func() bool { return len(*dst) == 0 },
	}
}

// boolInto takes true or false (the flag is a switch).
func boolInto(dst *bool) value {
	v := field(dst, strconv.ParseBool)
	v.isBool = true
	return v
}

// intInto takes a whole number of at least min and, when max is not 0, at
// most max.
func intInto[T int | int64](dst *T, min, max int64) value {
	return field(dst, func(s string) (T, error) {
		n, err := strconv.ParseInt(s, 10, 64)
		switch {
		case max != 0 && (err != nil || n < min || n > max):
			return 0, fmt.Errorf("%q is not a whole number between %d and %d", s, min, max)
		case min == 1 && (err != nil || n < 1):
			return 0, fmt.Errorf("%q is not a positive number", s)
		case err != nil || n < min:
			return 0, fmt.Errorf("%q is not a whole number of %d or more", s, min)
		}
		return T(n), nil
	})
}

// limitInto takes a whole number of 0 or more, where 0 turns a limit off:
// the services read a negative number as "off" and 0 as their default.
func limitInto(dst *int) value {
	v := intInto(dst, 0, 0)
	set := v.set
	v.set = func(s string) error {
		if err := set(s); err != nil {
			return err
		}
		if *dst == 0 {
			*dst = -1
		}
		return nil
	}
	return v
}

// sizeInto takes a positive size in bytes (see parseBytes).
func sizeInto(dst *int64) value {
	return field(dst, func(s string) (int64, error) {
		n, err := parseBytes(s)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("%q is not a size such as 25MB", s)
		}
		return n, nil
	})
}

// durationInto takes a duration of at least min (above 0 when min is 0)
// and, when max is not 0, at most max.
func durationInto(dst *time.Duration, min, max time.Duration) value {
	return field(dst, func(s string) (time.Duration, error) {
		d, err := time.ParseDuration(s)
		switch {
		case max != 0 && (err != nil || d <= 0 || d < min || d > max):
			return 0, fmt.Errorf("%q is not a duration between %s and %s", s, durationText(min), durationText(max))
		case min == 0 && (err != nil || d <= 0):
			return 0, fmt.Errorf("%q is not a positive duration such as 30s", s)
		case err != nil || d < min:
			return 0, fmt.Errorf("%q is not a duration of at least %s", s, durationText(min))
		}
		return d, nil
	})
}

// durationText writes d in its largest whole unit (72h, 5m, 15s), as a
// default is written; time.Duration.String would write 1m0s.
func durationText(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if d != 0 && d%u.d == 0 {
			return strconv.FormatInt(int64(d/u.d), 10) + u.name
		}
	}
	return d.String()
}

// sizeText writes n with the largest suffix parseBytes reads that divides
// it (256MB), or as bytes.
func sizeText(n int64) string {
	for _, u := range []struct {
		n    int64
		name string
	}{{1 << 30, "GB"}, {1 << 20, "MB"}, {1 << 10, "KB"}} {
		if n != 0 && n%u.n == 0 {
			return strconv.FormatInt(n/u.n, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10)
}

// otherPrograms are the PATCHPANDA_ variables that are not the relay's but
// may be set where it runs: ppctl's (a shell that starts a relay often
// runs ppctl against it) and, by prefix, the tests' (docs/testing.md).
var otherPrograms = []string{"PATCHPANDA_RELAY_URL", "PATCHPANDA_TOKEN", "PATCHPANDA_CONFIG_DIR"}

const testVariablePrefix = "PATCHPANDA_TEST_"

// unknownVariables returns an error for each PATCHPANDA_ variable of
// environ (KEY=VALUE pairs) that is set, not empty, and neither a setting
// of the relay nor another program's: a misspelt setting would otherwise
// be ignored and its default used. The error names the variable and the
// setting it is nearest to, if one is near.
func unknownVariables(environ []string) []error {
	known := map[string]bool{}
	var names []string
	for _, s := range new(Config).settings() {
		known[s.env] = true
		names = append(names, s.env)
	}
	for _, n := range otherPrograms {
		known[n] = true
	}
	var errs []error
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "PATCHPANDA_") || strings.HasPrefix(k, testVariablePrefix) || known[k] || v == "" {
			continue
		}
		msg := fmt.Sprintf("%s is set but is not a setting of the relay", k)
		if near := nearest(k, names); near != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", near)
		}
		errs = append(errs, errors.New(msg+"; unset it, or see docs/configuration.md"))
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errs
}

// nearest returns the name of names closest to s in edits, if it is within
// a third of s's length after the PATCHPANDA_ they share, else "".
func nearest(s string, names []string) string {
	s = strings.TrimPrefix(s, "PATCHPANDA_")
	best, bestD := "", len(s)/3+1
	for _, n := range names {
		if d := spelling.Distance(s, strings.TrimPrefix(n, "PATCHPANDA_")); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// parseBytes reads a size: a number of bytes, or one with a KB, MB or GB
// suffix (powers of 1024).
func parseBytes(s string) (int64, error) {
	mult := int64(1)
	for suffix, m := range map[string]int64{"KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30} {
		if n, ok := strings.CutSuffix(strings.ToUpper(s), suffix); ok {
			s, mult = n, m
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, err
	}
	return n * mult, nil
}

func readable(path string) error {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("file %s does not exist", path)
		}
		if errors.Is(err, os.ErrPermission) {
			return fmt.Errorf("file %s is not readable (permission denied)", path)
		}
		return fmt.Errorf("cannot open %s: %v", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err == nil && st.IsDir() {
		return fmt.Errorf("%s is a directory, not a file", path)
	}
	return nil
}

func countSet(vs []string) int {
	n := 0
	for _, v := range vs {
		if v != "" {
			n++
		}
	}
	return n
}

// Embedded reports whether the configuration is the embedded default:
// SQLite, the db queue and no GitHub App.
func (c Config) Embedded() bool {
	return strings.HasPrefix(c.DatabaseURL, "sqlite:") && c.QueueBackend == "db" && c.GitHubAppID == 0
}
