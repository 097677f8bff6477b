package relay

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/store"
)

// Config is every setting of the relay. Each comes from a flag of `relay
// serve` or the environment variable beside it; flags win.
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
	// checkpoint of the chain's head (0: audit.Checkpointer's default).
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

// setting describes one flag and its variable, so the flag list, the docs
// and validation messages come from one table.
type setting struct {
	flag, env, usage, def string
}

var settings = []setting{
	{"addr", "PATCHPANDA_ADDR", "listen address", ":8080"},
	{"database-url", "PATCHPANDA_DATABASE_URL", "sqlite:PATH or postgres://…", "sqlite:patchpanda.db"},
	{"queue-backend", "PATCHPANDA_QUEUE_BACKEND", "db, redis or sqs", "db"},
	{"redis-url", "PATCHPANDA_REDIS_URL", "Redis URL, for the redis queue backend", ""},
	{"sqs-queue-url", "PATCHPANDA_SQS_QUEUE_URL", "SQS queue URL, for the sqs queue backend", ""},
	{"webhook-secret", "PATCHPANDA_WEBHOOK_SECRET", "webhook secrets, comma-separated; any one verifies", ""},
	{"github-app-id", "PATCHPANDA_GITHUB_APP_ID", "the GitHub App's id", ""},
	{"github-private-key-file", "PATCHPANDA_GITHUB_PRIVATE_KEY_FILE", "the GitHub App's private key (PEM)", ""},
	{"github-api-url", "PATCHPANDA_GITHUB_API_URL", "GitHub REST base URL (GitHub Enterprise: https://HOST/api/v3)", "https://api.github.com"},
	{"server-config", "PATCHPANDA_SERVER_CONFIG", "server-side YAML config file", ""},
	{"secrets-keeper", "PATCHPANDA_SECRETS_KEEPER", "secrets keeper URL; default: a local key file beside the database", ""},
	{"actions-oidc-issuer", "PATCHPANDA_ACTIONS_OIDC_ISSUER", "issuer trusted for GitHub Actions ID tokens", "https://token.actions.githubusercontent.com"},
	{"actions-oidc-audience", "PATCHPANDA_ACTIONS_OIDC_AUDIENCE", "required audience (aud) of GitHub Actions ID tokens", "patchpanda"},
	{"coverage-blob-url", "PATCHPANDA_COVERAGE_BLOB_URL", "gocloud.dev bucket URL for raw coverage uploads (file:///dir); default: a coverage/ directory beside the SQLite database", ""},
	{"coverage-max-upload", "PATCHPANDA_COVERAGE_MAX_UPLOAD", "largest coverage report accepted, decompressed, in bytes or with a KB/MB/GB suffix", "256MB"},
	{"coverage-uploads-per-minute", "PATCHPANDA_COVERAGE_UPLOADS_PER_MINUTE", "coverage uploads allowed per repository per minute (0: no limit)", "60"},
	{"oidc-issuer", "PATCHPANDA_OIDC_ISSUER", "dashboard single sign-on issuer", ""},
	{"oidc-client-id", "PATCHPANDA_OIDC_CLIENT_ID", "dashboard single sign-on client id", ""},
	{"oidc-client-secret", "PATCHPANDA_OIDC_CLIENT_SECRET", "dashboard single sign-on client secret", ""},
	{"oidc-redirect-url", "PATCHPANDA_OIDC_REDIRECT_URL", "dashboard single sign-on redirect URL", ""},
	{"log-level", "PATCHPANDA_LOG_LEVEL", "debug, info, warn or error", "info"},
	{"log-format", "PATCHPANDA_LOG_FORMAT", "text or json", "text"},
	{"delivery-lease", "PATCHPANDA_DELIVERY_LEASE", "how long a relay owns a delivery it is processing before another relay may take it over", "60s"},
	{"job-heartbeat", "PATCHPANDA_JOB_HEARTBEAT", "how long a running job may go without an event from its worker before it counts as stuck", "10m"},
	{"stuck-job-policy", "PATCHPANDA_STUCK_JOB_POLICY", "what happens to a stuck job: requeue or fail", "requeue"},
	{"redelivery-window", "PATCHPANDA_REDELIVERY_WINDOW", "how far back the reconciler looks for failed deliveries to ask GitHub to redeliver (GitHub keeps 3 days)", "24h"},
	{"redelivery-interval", "PATCHPANDA_REDELIVERY_INTERVAL", "how often the reconciler runs", "5m"},
	{"shutdown-timeout", "PATCHPANDA_SHUTDOWN_TIMEOUT", "how long a graceful shutdown waits for in-flight work", "30s"},
	{"github-oauth-client-id", "PATCHPANDA_GITHUB_OAUTH_CLIENT_ID", "dashboard sign-in with GitHub: the OAuth App's client id", ""},
	{"github-oauth-client-secret", "PATCHPANDA_GITHUB_OAUTH_CLIENT_SECRET", "dashboard sign-in with GitHub: the OAuth App's client secret", ""},
	{"github-oauth-redirect-url", "PATCHPANDA_GITHUB_OAUTH_REDIRECT_URL", "dashboard sign-in with GitHub: the redirect URL, https://RELAY/auth/callback", ""},
	{"audit-checkpoint-every", "PATCHPANDA_AUDIT_CHECKPOINT_EVERY", "how many new audit events make a signed checkpoint of the chain's head (also taken at start and shutdown, and logged)", "100"},
	{"republish-queued-after", "PATCHPANDA_REPUBLISH_QUEUED_AFTER", "how long a job may stay queued after its publication to Redis or SQS before it is published again (the queue may have lost it)", "15m"},
	{"webhook-max-bytes", "PATCHPANDA_WEBHOOK_MAX_BYTES", "largest webhook body accepted (GitHub sends at most 25MB)", "25MB"},
	{"webhook-memory", "PATCHPANDA_WEBHOOK_MEMORY", "memory that webhook bodies over 64KB may hold at once; a body that does not fit is answered 503 with Retry-After", "128MB"},
	{"webhook-read-timeout", "PATCHPANDA_WEBHOOK_READ_TIMEOUT", "how long a webhook body may take to arrive", "15s"},
	{"read-header-timeout", "PATCHPANDA_READ_HEADER_TIMEOUT", "how long a request's headers may take to arrive", "10s"},
	{"read-timeout", "PATCHPANDA_READ_TIMEOUT", "how long a whole request may take to arrive (coverage uploads and webhooks have their own)", "30s"},
	{"write-timeout", "PATCHPANDA_WRITE_TIMEOUT", "how long an answer may take (long polls and coverage uploads get longer)", "60s"},
	{"idle-timeout", "PATCHPANDA_IDLE_TIMEOUT", "how long a keep-alive connection may idle between requests", "2m"},
	{"max-header-bytes", "PATCHPANDA_MAX_HEADER_BYTES", "largest request line and headers accepted (431 beyond)", "64KB"},
	{"coverage-upload-timeout", "PATCHPANDA_COVERAGE_UPLOAD_TIMEOUT", "how long a coverage upload may take to send its body and be answered", "5m"},
	{"auth-failures-per-minute", "PATCHPANDA_AUTH_FAILURES_PER_MINUTE", "rejected credentials one client address may send a minute before its requests get 429 (0: no limit)", "30"},
	{"long-polls-per-key", "PATCHPANDA_LONG_POLLS_PER_KEY", "concurrent POST /api/worker/lease?wait= per credential (0: no limit)", "4"},
	{"coverage-concurrent-uploads", "PATCHPANDA_COVERAGE_CONCURRENT_UPLOADS", "coverage uploads processed at once; more are answered 503 with Retry-After (0: no limit)", "4"},
	{"coverage-max-files", "PATCHPANDA_COVERAGE_MAX_FILES", "most source files one coverage report may name", "100000"},
	{"coverage-max-lines", "PATCHPANDA_COVERAGE_MAX_LINES", "most line records one coverage report may expand to (a Go block counts every line it spans)", "2000000"},
	{"coverage-max-xml-depth", "PATCHPANDA_COVERAGE_MAX_XML_DEPTH", "deepest element nesting a coverage XML report may have", "32"},
	{"coverage-max-xml-elements", "PATCHPANDA_COVERAGE_MAX_XML_ELEMENTS", "most elements a coverage XML report may have", "20000000"},
	{"coverage-max-commit-lines", "PATCHPANDA_COVERAGE_MAX_COMMIT_LINES", "most line records all coverage reports of one commit may hold together", "10000000"},
}

func flags() []cli.Flag {
	out := make([]cli.Flag, 0, len(settings)+1)
	for _, s := range settings {
		out = append(out, &cli.StringFlag{Name: s.flag, Usage: s.usage, Value: s.def, Sources: cli.EnvVars(s.env)})
	}
	out = append(out, &cli.BoolFlag{Name: "no-migrate", Usage: "do not apply migrations at start", Sources: cli.EnvVars("PATCHPANDA_NO_MIGRATE")})
	return out
}

func envOf(flag string) string {
	for _, s := range settings {
		if s.flag == flag {
			return s.env
		}
	}
	return ""
}

// configFrom reads and validates every setting. Its error has one line per
// bad setting, each naming the variable, the flag and what is wrong.
func configFrom(cmd *cli.Command) (Config, error) {
	var errs []error
	bad := func(flag, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s (--%s): %s", envOf(flag), flag, fmt.Sprintf(format, args...)))
	}
	c := Config{
		Addr:              cmd.String("addr"),
		DatabaseURL:       cmd.String("database-url"),
		QueueBackend:      cmd.String("queue-backend"),
		RedisURL:          cmd.String("redis-url"),
		SQSQueueURL:       cmd.String("sqs-queue-url"),
		GitHubPrivateKey:  cmd.String("github-private-key-file"),
		GitHubAPIURL:      strings.TrimRight(cmd.String("github-api-url"), "/"),
		ServerConfig:      cmd.String("server-config"),
		SecretsKeeper:     cmd.String("secrets-keeper"),
		ActionsOIDCIssuer: cmd.String("actions-oidc-issuer"),
		OIDCIssuer:        cmd.String("oidc-issuer"),
		OIDCClientID:      cmd.String("oidc-client-id"),
		OIDCClientSecret:  cmd.String("oidc-client-secret"),
		OIDCRedirectURL:   cmd.String("oidc-redirect-url"),
		NoMigrate:         cmd.Bool("no-migrate"),
		LogLevel:          cmd.String("log-level"),
		LogFormat:         cmd.String("log-format"),
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("addr", "%q is not host:port (e.g. :8080)", c.Addr)
	}
	if err := store.CheckURL(c.DatabaseURL); err != nil {
		bad("database-url", "%s", patchpanda.ErrorMessage(err))
	}
	switch c.QueueBackend {
	case "db":
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
	default:
		bad("queue-backend", "%q is not one of db, redis, sqs", c.QueueBackend)
	}
	for _, s := range strings.Split(cmd.String("webhook-secret"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			c.WebhookSecrets = append(c.WebhookSecrets, s)
		}
	}
	if v := cmd.String("github-app-id"); v != "" {
		if _, err := fmt.Sscan(v, &c.GitHubAppID); err != nil || c.GitHubAppID <= 0 {
			bad("github-app-id", "%q is not a positive number", v)
		}
	}
	switch {
	case c.GitHubAppID != 0 && c.GitHubPrivateKey == "":
		bad("github-private-key-file", "required when the GitHub App id is set")
	case c.GitHubAppID == 0 && c.GitHubPrivateKey != "" && cmd.String("github-app-id") == "":
		bad("github-app-id", "required when a private key file is set")
	case c.GitHubPrivateKey != "":
		if err := readable(c.GitHubPrivateKey); err != nil {
			bad("github-private-key-file", "%v", err)
		}
	}
	if u, err := url.Parse(c.GitHubAPIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		bad("github-api-url", "%q is not an http(s) URL", c.GitHubAPIURL)
	}
	if c.ServerConfig != "" {
		if err := readable(c.ServerConfig); err != nil {
			bad("server-config", "%v", err)
		}
	}
	if u, err := url.Parse(c.ActionsOIDCIssuer); err != nil || u.Scheme != "https" && u.Scheme != "http" {
		bad("actions-oidc-issuer", "%q is not an http(s) URL", c.ActionsOIDCIssuer)
	}
	sso := []string{c.OIDCIssuer, c.OIDCClientID, c.OIDCClientSecret, c.OIDCRedirectURL}
	if n := countSet(sso); n != 0 && n != len(sso) {
		bad("oidc-issuer", "single sign-on needs all of PATCHPANDA_OIDC_ISSUER, _CLIENT_ID, _CLIENT_SECRET and _REDIRECT_URL")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log-level", "%q is not one of debug, info, warn, error", c.LogLevel)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("log-format", "%q is not text or json", c.LogFormat)
	}
	d, err := time.ParseDuration(cmd.String("shutdown-timeout"))
	if err != nil || d <= 0 {
		bad("shutdown-timeout", "%q is not a positive duration like 30s", cmd.String("shutdown-timeout"))
	}
	c.ShutdownTimeout = d
	if c.DeliveryLease, err = time.ParseDuration(cmd.String("delivery-lease")); err != nil || c.DeliveryLease < time.Second {
		bad("delivery-lease", "%q is not a duration of at least 1s", cmd.String("delivery-lease"))
	}
	if c.JobHeartbeat, err = time.ParseDuration(cmd.String("job-heartbeat")); err != nil || c.JobHeartbeat < time.Second {
		bad("job-heartbeat", "%q is not a duration of at least 1s", cmd.String("job-heartbeat"))
	}
	if c.StuckJobPolicy = cmd.String("stuck-job-policy"); c.StuckJobPolicy != "requeue" && c.StuckJobPolicy != "fail" {
		bad("stuck-job-policy", "%q is not requeue or fail", c.StuckJobPolicy)
	}
	if c.RedeliveryWindow, err = time.ParseDuration(cmd.String("redelivery-window")); err != nil || c.RedeliveryWindow <= 0 || c.RedeliveryWindow > 72*time.Hour {
		bad("redelivery-window", "%q is not a duration between 0 and 72h", cmd.String("redelivery-window"))
	}
	if c.RedeliveryEvery, err = time.ParseDuration(cmd.String("redelivery-interval")); err != nil || c.RedeliveryEvery < time.Second {
		bad("redelivery-interval", "%q is not a duration of at least 1s", cmd.String("redelivery-interval"))
	}
	c.ActionsOIDCAudience = cmd.String("actions-oidc-audience")
	c.CoverageBlobURL = cmd.String("coverage-blob-url")
	if c.CoverageMaxUploadBytes, err = parseBytes(cmd.String("coverage-max-upload")); err != nil || c.CoverageMaxUploadBytes <= 0 {
		bad("coverage-max-upload", "%q is not a size such as 256MB", cmd.String("coverage-max-upload"))
	}
	if n, err := strconv.Atoi(cmd.String("coverage-uploads-per-minute")); err != nil || n < 0 {
		bad("coverage-uploads-per-minute", "%q is not a whole number of 0 or more", cmd.String("coverage-uploads-per-minute"))
	} else {
		c.CoverageUploadsPerMinute = n
		if n == 0 {
			c.CoverageUploadsPerMinute = -1 // coveragesvc: negative turns the limit off
		}
	}
	c.GitHubOAuthClientID = cmd.String("github-oauth-client-id")
	c.GitHubOAuthClientSecret = cmd.String("github-oauth-client-secret")
	c.GitHubOAuthRedirectURL = cmd.String("github-oauth-redirect-url")
	gho := []string{c.GitHubOAuthClientID, c.GitHubOAuthClientSecret, c.GitHubOAuthRedirectURL}
	switch n := countSet(gho); {
	case n != 0 && n != len(gho):
		bad("github-oauth-client-id", "sign-in with GitHub needs all of PATCHPANDA_GITHUB_OAUTH_CLIENT_ID, _CLIENT_SECRET and _REDIRECT_URL")
	case n != 0 && countSet(sso) != 0:
		bad("github-oauth-client-id", "the dashboard signs in with OIDC (PATCHPANDA_OIDC_*) or with GitHub, not both")
	case n != 0 && c.GitHubAppID == 0:
		bad("github-oauth-client-id", "sign-in with GitHub needs the GitHub App (PATCHPANDA_GITHUB_APP_ID), to ask GitHub who signed in")
	}
	if n, err := strconv.ParseInt(cmd.String("audit-checkpoint-every"), 10, 64); err != nil || n < 1 || n > 1_000_000 {
		bad("audit-checkpoint-every", "%q is not a whole number between 1 and 1000000", cmd.String("audit-checkpoint-every"))
	} else {
		c.AuditCheckpointEvery = n
	}
	if c.RepublishQueuedAfter, err = time.ParseDuration(cmd.String("republish-queued-after")); err != nil || c.RepublishQueuedAfter < time.Second {
		bad("republish-queued-after", "%q is not a duration of at least 1s", cmd.String("republish-queued-after"))
	}
	size := func(flag string, dst *int64) {
		n, err := parseBytes(cmd.String(flag))
		if err != nil || n <= 0 {
			bad(flag, "%q is not a size such as 25MB", cmd.String(flag))
		}
		*dst = n
	}
	size("webhook-max-bytes", &c.WebhookMaxBytes)
	size("webhook-memory", &c.WebhookMemory)
	size("max-header-bytes", &c.MaxHeaderBytes)
	duration := func(flag string, dst *time.Duration) {
		d, err := time.ParseDuration(cmd.String(flag))
		if err != nil || d < time.Second {
			bad(flag, "%q is not a duration of at least 1s", cmd.String(flag))
		}
		*dst = d
	}
	duration("webhook-read-timeout", &c.WebhookReadTimeout)
	duration("read-header-timeout", &c.ReadHeaderTimeout)
	duration("read-timeout", &c.ReadTimeout)
	duration("write-timeout", &c.WriteTimeout)
	duration("idle-timeout", &c.IdleTimeout)
	duration("coverage-upload-timeout", &c.CoverageUploadTimeout)
	count := func(flag string, min int64) int64 {
		n, err := strconv.ParseInt(cmd.String(flag), 10, 64)
		if err != nil || n < min {
			bad(flag, "%q is not a whole number of %d or more", cmd.String(flag), min)
		}
		return n
	}
	// 0 turns these two off; httpapi reads a negative number as "off".
	if c.AuthFailuresPerMinute = int(count("auth-failures-per-minute", 0)); c.AuthFailuresPerMinute == 0 {
		c.AuthFailuresPerMinute = -1
	}
	if c.LongPollsPerKey = int(count("long-polls-per-key", 0)); c.LongPollsPerKey == 0 {
		c.LongPollsPerKey = -1
	}
	if c.ConcurrentUploads = int(count("coverage-concurrent-uploads", 0)); c.ConcurrentUploads == 0 {
		c.ConcurrentUploads = -1
	}
	c.CoverageMaxFiles = count("coverage-max-files", 1)
	c.CoverageMaxLines = count("coverage-max-lines", 1)
	c.CoverageMaxXMLDepth = count("coverage-max-xml-depth", 8)
	c.CoverageMaxXMLElements = count("coverage-max-xml-elements", 1)
	c.CoverageMaxCommitLines = count("coverage-max-commit-lines", 1)
	return c, errors.Join(errs...)
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

// SettingNames lists every environment variable and flag of `relay serve`.
func SettingNames() []string {
	var out []string
	for _, s := range settings {
		out = append(out, s.env, "--"+s.flag)
	}
	return out
}
