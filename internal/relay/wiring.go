package relay

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/patchpanda/patchpanda/internal/billing"
	"github.com/patchpanda/patchpanda/internal/config"
	"github.com/patchpanda/patchpanda/internal/dispatch"
	"github.com/patchpanda/patchpanda/internal/githubapp"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/queue"
	"github.com/patchpanda/patchpanda/internal/queue/dbqueue"
	"github.com/patchpanda/patchpanda/internal/queue/redisqueue"
	"github.com/patchpanda/patchpanda/internal/queue/sqsqueue"
	"github.com/patchpanda/patchpanda/internal/secrets"
	"github.com/patchpanda/patchpanda/internal/store"
)

// openGitHub builds the GitHub App client; without an App id it logs calls
// instead of making them. A private key file ending in ".sealed" (as /setup
// writes) is opened with the secrets keeper.
func openGitHub(ctx context.Context, cfg Config, logger *slog.Logger, observe func(method, route string, status int, d time.Duration), keeper *secrets.Keeper) (*githubapp.Client, error) {
	gc := githubapp.Config{AppID: cfg.GitHubAppID, BaseURL: cfg.GitHubAPIURL, Observe: observe}
	if cfg.GitHubPrivateKey != "" {
		pem, err := os.ReadFile(cfg.GitHubPrivateKey)
		if err != nil {
			return nil, fmt.Errorf("PATCHPANDA_GITHUB_PRIVATE_KEY_FILE: %w", err)
		}
		if strings.HasSuffix(cfg.GitHubPrivateKey, ".sealed") {
			if pem, err = keeper.Decrypt(ctx, pem); err != nil {
				return nil, fmt.Errorf("PATCHPANDA_GITHUB_PRIVATE_KEY_FILE: %s is sealed and PATCHPANDA_SECRETS_KEEPER cannot open it: %w", cfg.GitHubPrivateKey, err)
			}
		}
		gc.PrivateKeyPEM = pem
	}
	c, err := githubapp.New(gc, logger)
	if err != nil {
		return nil, fmt.Errorf("PATCHPANDA_GITHUB_PRIVATE_KEY_FILE: %w", err)
	}
	return c, nil
}

// loadServerConfig reads PATCHPANDA_SERVER_CONFIG; errors name the file,
// line and column.
func loadServerConfig(path string) (*config.Server, error) {
	s, err := config.LoadServer(path)
	if err != nil {
		return nil, fmt.Errorf("PATCHPANDA_SERVER_CONFIG: %w", err)
	}
	return s, nil
}

// publisher is the queue the outbox publishes to.
type publisher interface {
	Publish(ctx context.Context, m patchpanda.Message) error
	Ping(ctx context.Context) error
	Close() error
}

func openQueue(ctx context.Context, cfg Config, db *store.DB) (publisher, error) {
	switch cfg.QueueBackend {
	case "db":
		return dbqueue.New(db, 5*time.Minute), nil
	case "redis":
		q, err := redisqueue.Open(ctx, redisqueue.Options{URL: cfg.RedisURL})
		if err != nil {
			return nil, fmt.Errorf("PATCHPANDA_REDIS_URL: %w", err)
		}
		return q, nil
	case "sqs":
		q, err := sqsqueue.Open(ctx, sqsqueue.Options{QueueURL: cfg.SQSQueueURL})
		if err != nil {
			return nil, fmt.Errorf("PATCHPANDA_SQS_QUEUE_URL: %w", err)
		}
		return q, nil
	}
	return nil, fmt.Errorf("PATCHPANDA_QUEUE_BACKEND: %q is not one of db, redis, sqs", cfg.QueueBackend)
}

// publish is the outbox handler for OutboxPublish entries.
func publish(q publisher) func(ctx context.Context, e store.OutboxEntry) error {
	return func(ctx context.Context, e store.OutboxEntry) error {
		m, err := queue.Decode(e.Payload)
		if err != nil {
			return err
		}
		return q.Publish(ctx, m)
	}
}

// budgets adapts the billing service to what dispatch asks.
type budgets struct{ b *billing.Service }

// Check reports whether repo's billing project may spend on another job.
func (a budgets) Check(ctx context.Context, repo string) (dispatch.Budget, error) {
	b, err := a.b.Check(ctx, repo, 0)
	if err != nil {
		return dispatch.Budget{}, err
	}
	return dispatch.Budget{Project: b.Project.Name, Over: b.Over, Detail: b.Reason()}, nil
}
