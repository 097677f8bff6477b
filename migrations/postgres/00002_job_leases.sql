-- +goose Up
-- Leases are receipts: the lease a worker took (its id and the API key
-- that took it) is on the job, and /token and /events check both.
ALTER TABLE jobs ADD COLUMN lease_id TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN lease_holder TEXT NOT NULL DEFAULT '';
-- A relay creating a job's check run holds this claim until it has
-- recorded the run's id, so two relays never create two runs.
ALTER TABLE jobs ADD COLUMN check_run_claimed_until TIMESTAMPTZ;

-- Installation tokens minted for a job, sealed with the secrets keeper,
-- kept until they are revoked at GitHub (the job ended or its lease
-- expired) or expire by themselves.
CREATE TABLE job_tokens (
    id              BIGSERIAL PRIMARY KEY,
    job_id          TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    lease_id        TEXT NOT NULL,
    installation_id BIGINT NOT NULL,
    sealed          BYTEA NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    revoked_at      TIMESTAMPTZ
);
CREATE INDEX job_tokens_live ON job_tokens (job_id) WHERE revoked_at IS NULL;

-- +goose Down
DROP TABLE job_tokens;
ALTER TABLE jobs DROP COLUMN check_run_claimed_until;
ALTER TABLE jobs DROP COLUMN lease_holder;
ALTER TABLE jobs DROP COLUMN lease_id;
