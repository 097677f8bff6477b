-- +goose Up
-- deferrals counts tries put off for a rate limit or an unavailable
-- dependency: they wait, and never count toward the attempt limit.
ALTER TABLE deliveries ADD COLUMN deferrals INTEGER NOT NULL DEFAULT 0;
CREATE INDEX deliveries_failed ON deliveries (id) WHERE state = 'failed';
-- The installation whose GitHub budget an outbox entry spends (0: none),
-- so the runner can leave a spent installation's entries untouched.
ALTER TABLE outbox ADD COLUMN installation_id BIGINT NOT NULL DEFAULT 0;
-- The sweeper finds a queued job's publications by job.
CREATE INDEX outbox_job ON outbox (job_id, id);
-- /readyz writes this one row to learn that the database takes writes.
CREATE TABLE readiness_probe (
    id         INTEGER PRIMARY KEY,
    written_at TIMESTAMPTZ NOT NULL
);
INSERT INTO readiness_probe (id, written_at) VALUES (1, CURRENT_TIMESTAMP);

-- +goose Down
DROP TABLE readiness_probe;
DROP INDEX outbox_job;
ALTER TABLE outbox DROP COLUMN installation_id;
DROP INDEX deliveries_failed;
ALTER TABLE deliveries DROP COLUMN deferrals;
