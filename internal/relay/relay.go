// Package relay assembles the relay process: it reads the configuration,
// opens the database, wires the services into the HTTP API and owns every
// background worker, so that a test can start a whole relay on :0.
package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/patchpanda/patchpanda/internal/actionsoidc"
	"github.com/patchpanda/patchpanda/internal/audit"
	"github.com/patchpanda/patchpanda/internal/billing"
	"github.com/patchpanda/patchpanda/internal/coverage"
	"github.com/patchpanda/patchpanda/internal/coveragesvc"
	"github.com/patchpanda/patchpanda/internal/dispatch"
	"github.com/patchpanda/patchpanda/internal/feedback"
	"github.com/patchpanda/patchpanda/internal/ghauth"
	"github.com/patchpanda/patchpanda/internal/githubapp"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/intake"
	"github.com/patchpanda/patchpanda/internal/jobs"
	"github.com/patchpanda/patchpanda/internal/keys"
	"github.com/patchpanda/patchpanda/internal/limits"
	"github.com/patchpanda/patchpanda/internal/metrics"
	"github.com/patchpanda/patchpanda/internal/outbox"
	"github.com/patchpanda/patchpanda/internal/queue/dbqueue"
	"github.com/patchpanda/patchpanda/internal/ratelimit"
	"github.com/patchpanda/patchpanda/internal/secrets"
	"github.com/patchpanda/patchpanda/internal/store"
	"github.com/patchpanda/patchpanda/internal/webhook"
)

// Relay is one running relay: its database, HTTP server and background
// workers.
type Relay struct {
	Config  Config
	Logger  *slog.Logger
	DB      *store.DB
	Metrics *metrics.Metrics
	Keys    *keys.Service
	// Recorder and Processor are the durable webhook intake.
	Recorder  *intake.Recorder
	Processor *intake.Processor
	GitHub    *githubapp.Client
	Billing   *billing.Service
	Secrets   *secrets.Keeper
	// Reconciler asks GitHub for missed deliveries (only with an App).
	Reconciler *intake.Reconciler
	Jobs       *jobs.Service
	Coverage   *coveragesvc.Service
	// Sweeper republishes jobs an external queue may have lost (redis and
	// sqs backends only; nil for db).
	Sweeper *outbox.Sweeper
	queue   publisher

	ln     net.Listener
	server *http.Server
	// background work: started by Run, stopped by its cancel and awaited.
	workers []func(ctx context.Context)
	wg      sync.WaitGroup
}

// The coverage service reaches the REST API only through the interfaces
// httpapi declares for it (coveragesvc does not import httpapi).
var (
	_ httpapi.CoverageService = (*coveragesvc.Service)(nil)
	_ httpapi.CoverageViews   = (*coveragesvc.Service)(nil)
)

// Open opens the database (migrating it unless told not to), wires the
// services and binds the listen address. A setting cfg leaves zero takes
// its default, as `relay serve` has it. It returns an error naming the
// setting or dependency at fault.
func Open(ctx context.Context, cfg Config, logger *slog.Logger) (_ *Relay, err error) {
	if cfg, err = cfg.withDefaults(); err != nil {
		return nil, err
	}
	r := &Relay{Config: cfg, Logger: logger, Metrics: metrics.New()}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("PATCHPANDA_DATABASE_URL: %w", err)
	}
	r.DB = db
	defer func() {
		if err != nil {
			r.Close()
		}
	}()
	if !cfg.NoMigrate {
		applied, err := db.Migrate(ctx, nil)
		if err != nil {
			return nil, err
		}
		if len(applied) > 0 {
			logger.Info("applied migrations", "versions", applied)
		}
	} else if pending, err := db.Pending(ctx); err != nil || pending {
		if err != nil {
			return nil, err
		}
		return nil, errors.New("the database has pending migrations and --no-migrate is set; run `relay migrate` first")
	}
	r.Keys = keys.NewService(db)
	if r.Secrets, err = secrets.Open(ctx, cfg.SecretsKeeper, secrets.DefaultKeyPath(db.Path())); err != nil {
		return nil, err // the message names PATCHPANDA_SECRETS_KEEPER
	}
	chain, err := audit.OpenChain(ctx, db, r.Secrets, logger)
	if err != nil {
		return nil, fmt.Errorf("audit chain: %w", err)
	}
	db.SetAuditChain(chain)
	r.Billing = billing.NewService(db, r.Secrets)

	var verifier *webhook.Verifier
	if len(cfg.WebhookSecrets) > 0 {
		if verifier, err = webhook.NewVerifier(cfg.WebhookSecrets); err != nil {
			return nil, fmt.Errorf("PATCHPANDA_WEBHOOK_SECRET: %w", err)
		}
	} else {
		logger.Warn("no webhook secret configured: POST /webhooks/github refuses every delivery (set PATCHPANDA_WEBHOOK_SECRET)")
	}
	if r.GitHub, err = openGitHub(ctx, cfg, logger, r.Metrics.GitHubCall, r.Secrets); err != nil {
		return nil, err
	}
	server, err := loadServerConfig(cfg.ServerConfig)
	if err != nil {
		return nil, err
	}
	if r.queue, err = openQueue(ctx, cfg, db); err != nil {
		return nil, err
	}
	ready := []httpapi.Check{{Name: "database", Check: db.Writable}, {Name: "queue", Check: r.queue.Ping}}

	publishRunner := outbox.New(db, store.OutboxPublish, publish(r.queue), logger)
	sender := &feedback.Sender{GitHub: r.GitHub, DB: db, Limit: ratelimit.New[int64](80, 20, time.Now)}
	githubRunner := outbox.New(db, store.OutboxGitHub, sender.Send, logger)
	githubRunner.Budget = r.GitHub.Budget()
	r.Jobs = jobs.NewService(db, r.GitHub, logger)
	if dq, ok := r.queue.(*dbqueue.Queue); ok {
		r.Jobs.Leaser = dq
	}
	r.Jobs.StuckPolicy = cfg.StuckJobPolicy
	r.Jobs.Heartbeat = cfg.JobHeartbeat
	r.Jobs.Enqueued = func() { publishRunner.Wake(); githubRunner.Wake() }

	r.Recorder = intake.NewRecorder(db, logger)
	d := dispatch.New(logger, r.GitHub, server, budgets{r.Billing})
	d.DB = db
	r.Jobs.Decide = d // replays from the API pass the same decision as comments
	r.Jobs.Sealer = r.Secrets
	if r.Jobs.GitHubWeb, err = jobs.WebURL(cfg.GitHubAPIURL); err != nil {
		return nil, fmt.Errorf("PATCHPANDA_GITHUB_API_URL: %w", err)
	}
	r.Processor = intake.NewProcessor(db, logger, d.Handle, r.Metrics)
	r.Processor.Lease = cfg.DeliveryLease
	r.Processor.AfterCommit = r.Jobs.Enqueued
	r.Processor.Budget = r.GitHub.Budget()
	r.Recorder.Lease = r.Processor.RecordLease
	r.Recorder.OnRecorded = r.Processor.Recorded
	r.Metrics.WatchBacklog(func(ctx context.Context) (metrics.Backlog, error) {
		d, jobs, outbox, err := db.Backlog(ctx)
		return metrics.Backlog{DeliveriesPending: d, Jobs: jobs, Outbox: outbox}, err
	})
	r.Reconciler = intake.NewReconciler(r.GitHub, db, cfg.GitHubAppID, logger, r.Metrics)
	r.Reconciler.Window = cfg.RedeliveryWindow
	r.Reconciler.Interval = cfg.RedeliveryEvery
	if r.GitHub.Enabled() {
		r.workers = append(r.workers, r.Reconciler.Run)
	}
	if cfg.QueueBackend != "db" {
		r.Sweeper = &outbox.Sweeper{DB: db, Logger: logger, Age: cfg.RepublishQueuedAfter, Published: publishRunner.Wake}
		r.workers = append(r.workers, r.Sweeper.Run)
	}
	r.workers = append(r.workers, db.RunCheckpoints, r.Recorder.Run, r.Processor.Run, publishRunner.Run, githubRunner.Run,
		func(ctx context.Context) { r.Jobs.RunReaper(ctx, 15*time.Second) })

	reporter := &limits.Reporter{Logger: logger, Count: r.Metrics.LimitHit}
	r.Metrics.InitLimits(limits.All)
	if r.Coverage, err = coveragesvc.New(ctx, db, r.GitHub, logger, coveragesvc.Options{
		BlobURL: cfg.CoverageBlobURL, MaxUploadBytes: cfg.CoverageMaxUploadBytes,
		UploadsPerMinute: cfg.CoverageUploadsPerMinute, Server: server,
		Limits: coverage.Limits{MaxFiles: int(cfg.CoverageMaxFiles), MaxLines: cfg.CoverageMaxLines,
			MaxDepth: int(cfg.CoverageMaxXMLDepth), MaxElements: cfg.CoverageMaxXMLElements},
		MaxCommitLines: cfg.CoverageMaxCommitLines, Reporter: reporter,
	}); err != nil {
		return nil, fmt.Errorf("PATCHPANDA_COVERAGE_BLOB_URL: %w", err)
	}
	r.Coverage.Enqueued = githubRunner.Wake
	actionsTokens, err := actionsoidc.New(actionsoidc.Options{Issuer: cfg.ActionsOIDCIssuer, Audience: cfg.ActionsOIDCAudience})
	if err != nil {
		return nil, fmt.Errorf("PATCHPANDA_ACTIONS_OIDC_ISSUER: %w", err)
	}
	creds := actionsoidc.Chain{Keys: r.Keys, Actions: actionsTokens}
	if r.GitHub.Enabled() {
		creds.Other = ghauth.New(r.GitHub, server.RBAC, db) // gh patchpanda: people's own GitHub tokens
	}
	web, err := r.webRoutes(cfg, server, logger)
	if err != nil {
		return nil, err
	}
	api := &httpapi.Server{
		Limits: httpapi.Limits{AuthFailuresPerMinute: cfg.AuthFailuresPerMinute, LongPollsPerKey: cfg.LongPollsPerKey, ConcurrentUploads: cfg.ConcurrentUploads,
			UploadTimeout: cfg.CoverageUploadTimeout, Reporter: reporter},
		Logger:   logger,
		Auth:     creds,
		Keys:     r.Keys,
		Audit:    db,
		Metrics:  r.Metrics.Handler(),
		Observer: r.Metrics,
		Ready:    ready,
		Routes: append([]func(*http.ServeMux, *httpapi.Server){httpapi.JobRoutes(r.Jobs), httpapi.BillingRoutes(r.Billing), httpapi.CoverageRoutes(r.Coverage), httpapi.CoverageViewRoutes(r.Coverage),
			httpapi.DeliveryRoutes(&intake.Failed{DB: db, Wake: r.Processor.Wake})}, web...),
		Webhooks: &httpapi.Webhooks{
			Verifier: verifier, Recorder: r.Recorder, AppID: cfg.GitHubAppID,
			Logger: logger, Metrics: r.Metrics, Limits: reporter,
			MaxBytes: cfg.WebhookMaxBytes, MemoryBudget: cfg.WebhookMemory, ReadTimeout: cfg.WebhookReadTimeout,
		},
	}
	api.AuditVerify = &audit.Verifier{Log: db, Chain: chain}
	// Signs the audit chain's head into its table and the log (start,
	// every N events, shutdown).
	checkpointer := &audit.Checkpointer{Store: db, Chain: chain, Logger: logger, Every: cfg.AuditCheckpointEvery}
	r.workers = append(r.workers, checkpointer.Run)

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("PATCHPANDA_ADDR: cannot listen on %s: %w", cfg.Addr, err)
	}
	r.ln = ln
	r.server = httpapi.NewHTTPServer(api.Handler(), httpapi.Timeouts{
		ReadHeader:     cfg.ReadHeaderTimeout,
		Read:           cfg.ReadTimeout,
		Write:          cfg.WriteTimeout,
		Idle:           cfg.IdleTimeout,
		MaxHeaderBytes: int(cfg.MaxHeaderBytes),
	})
	r.server.ErrorLog = slog.NewLogLogger(logger.Handler(), slog.LevelWarn)
	return r, nil
}

// Addr returns the address the relay listens on (useful after ":0").
func (r *Relay) Addr() string { return r.ln.Addr().String() }

// URL returns the relay's base URL on loopback.
func (r *Relay) URL() string {
	_, port, _ := net.SplitHostPort(r.Addr())
	return "http://127.0.0.1:" + port
}

// Run serves until ctx is cancelled, then shuts down gracefully: it stops
// accepting, lets in-flight requests finish, then stops background work,
// waiting at most the configured shutdown timeout. It returns the server's
// error, if any, other than the shutdown itself.
func (r *Relay) Run(ctx context.Context) error {
	bgCtx, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBG()
	for _, w := range r.workers {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			w(bgCtx)
		}()
	}
	errc := make(chan error, 1)
	go func() { errc <- r.server.Serve(r.ln) }()

	select {
	case err := <-errc:
		stopBG()
		r.wg.Wait()
		return fmt.Errorf("relay: serve: %w", err)
	case <-ctx.Done():
	}
	r.Logger.Info("shutting down: finishing in-flight requests and background work")
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.Config.ShutdownTimeout)
	defer cancel()
	err := r.server.Shutdown(shutCtx)
	stopBG()
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-shutCtx.Done():
		r.Logger.Warn("background work did not stop within the shutdown timeout")
	}
	if err != nil {
		return fmt.Errorf("relay: shutdown: %w", err)
	}
	r.Logger.Info("stopped")
	return nil
}

// Close releases the queue and the database. Call it after Run returns.
func (r *Relay) Close() error {
	if r.queue != nil {
		r.queue.Close()
	}
	if r.Secrets != nil {
		r.Secrets.Close()
	}
	if r.Coverage != nil {
		r.Coverage.Close()
	}
	return r.DB.Close()
}
