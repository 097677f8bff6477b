-- +goose Up
CREATE TABLE api_keys (
    id           BIGSERIAL PRIMARY KEY,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    hash         BYTEA NOT NULL UNIQUE,
    scopes       TEXT NOT NULL,
    created_by   TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ
);

CREATE TABLE deliveries (
    id              BIGSERIAL PRIMARY KEY,
    app_id          BIGINT NOT NULL,
    delivery_id     TEXT NOT NULL,
    event           TEXT NOT NULL,
    action          TEXT NOT NULL DEFAULT '',
    installation_id BIGINT NOT NULL DEFAULT 0,
    repository      TEXT NOT NULL DEFAULT '',
    repository_id   BIGINT NOT NULL DEFAULT 0,
    sender          TEXT NOT NULL DEFAULT '',
    payload         BYTEA NOT NULL,
    received_at     TIMESTAMPTZ NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    locked_until    TIMESTAMPTZ,
    lease_token     TEXT NOT NULL DEFAULT '',
    last_error      TEXT NOT NULL DEFAULT '',
    processed_at    TIMESTAMPTZ,
    UNIQUE (app_id, delivery_id)
);
CREATE INDEX deliveries_pending ON deliveries (id) WHERE state = 'pending';

CREATE TABLE installations (
    id           BIGINT PRIMARY KEY,
    account      TEXT NOT NULL,
    suspended_at TIMESTAMPTZ,
    deleted_at   TIMESTAMPTZ,
    updated_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE installation_repositories (
    installation_id BIGINT NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
    repository_id   BIGINT NOT NULL,
    full_name       TEXT NOT NULL,
    PRIMARY KEY (installation_id, repository_id)
);
CREATE INDEX installation_repositories_name ON installation_repositories (full_name);

CREATE TABLE billing_projects (
    id            BIGSERIAL PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    budget_micros BIGINT NOT NULL DEFAULT 0,
    created_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE repository_bindings (
    repository         TEXT PRIMARY KEY,
    billing_project_id BIGINT NOT NULL REFERENCES billing_projects (id) ON DELETE CASCADE,
    created_at         TIMESTAMPTZ NOT NULL
);

CREATE TABLE provider_keys (
    id                 BIGSERIAL PRIMARY KEY,
    billing_project_id BIGINT NOT NULL REFERENCES billing_projects (id) ON DELETE CASCADE,
    provider           TEXT NOT NULL,
    name               TEXT NOT NULL,
    ciphertext         BYTEA NOT NULL,
    hint               TEXT NOT NULL DEFAULT '',
    created_at         TIMESTAMPTZ NOT NULL,
    revoked_at         TIMESTAMPTZ
);

CREATE UNIQUE INDEX provider_keys_active ON provider_keys (billing_project_id, provider, name) WHERE revoked_at IS NULL;

CREATE TABLE jobs (
    id               TEXT PRIMARY KEY,
    root_id          TEXT NOT NULL,
    attempt          INTEGER NOT NULL,
    replay_of        TEXT REFERENCES jobs (id),
    unique_key       TEXT UNIQUE,
    delivery_id      BIGINT REFERENCES deliveries (id),
    kind             TEXT NOT NULL,
    repository       TEXT NOT NULL,
    repository_id    BIGINT NOT NULL DEFAULT 0,
    installation_id  BIGINT NOT NULL DEFAULT 0,
    pr_number        INTEGER NOT NULL DEFAULT 0,
    head_sha         TEXT NOT NULL DEFAULT '',
    base_sha         TEXT NOT NULL DEFAULT '',
    requested_by     TEXT NOT NULL DEFAULT '',
    trigger          TEXT NOT NULL,
    config           TEXT NOT NULL DEFAULT '{}',
    billing_project  TEXT NOT NULL DEFAULT '',
    state            TEXT NOT NULL,
    check_run_id     BIGINT NOT NULL DEFAULT 0,
    cost_micros      BIGINT NOT NULL DEFAULT 0,
    result_url       TEXT NOT NULL DEFAULT '',
    message          TEXT NOT NULL DEFAULT '',
    queue_message    BYTEA,
    lease_token      TEXT NOT NULL DEFAULT '',
    deliveries       INTEGER NOT NULL DEFAULT 0,
    visible_at       TIMESTAMPTZ,
    lease_expires_at TIMESTAMPTZ,
    heartbeat_at     TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    started_at       TIMESTAMPTZ,
    finished_at      TIMESTAMPTZ
);
CREATE INDEX jobs_list ON jobs (created_at DESC, id DESC);
CREATE INDEX jobs_repository ON jobs (repository, created_at DESC);
CREATE INDEX jobs_ready ON jobs (visible_at) WHERE state = 'queued';
CREATE INDEX jobs_running ON jobs (lease_expires_at) WHERE state = 'running';
CREATE INDEX jobs_billing_month ON jobs (billing_project, created_at);

CREATE TABLE job_events (
    id          BIGSERIAL PRIMARY KEY,
    job_id      TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    type        TEXT NOT NULL,
    message     TEXT NOT NULL DEFAULT '',
    cost_micros BIGINT NOT NULL DEFAULT 0,
    url         TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX job_events_job ON job_events (job_id, id);

CREATE TABLE outbox (
    id              BIGSERIAL PRIMARY KEY,
    kind            TEXT NOT NULL,
    job_id          TEXT REFERENCES jobs (id) ON DELETE CASCADE,
    payload         BYTEA NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    locked_until    TIMESTAMPTZ,
    last_error      TEXT NOT NULL DEFAULT '',
    published_at    TIMESTAMPTZ
);
CREATE INDEX outbox_pending ON outbox (kind, id) WHERE published_at IS NULL;

CREATE TABLE coverage_reports (
    id              BIGSERIAL PRIMARY KEY,
    repository      TEXT NOT NULL,
    sha             TEXT NOT NULL,
    branch          TEXT NOT NULL DEFAULT '',
    pr_number       INTEGER NOT NULL DEFAULT 0,
    flag            TEXT NOT NULL DEFAULT '',
    format          TEXT NOT NULL,
    ci_job          TEXT NOT NULL DEFAULT '',
    content_sha256  TEXT NOT NULL,
    blob_key        TEXT NOT NULL DEFAULT '',
    base_sha        TEXT NOT NULL DEFAULT '',
    installation_id BIGINT NOT NULL DEFAULT 0,
    files           INTEGER NOT NULL DEFAULT 0,
    lines_found     BIGINT NOT NULL DEFAULT 0,
    lines_hit       BIGINT NOT NULL DEFAULT 0,
    branches_found  BIGINT NOT NULL DEFAULT 0,
    branches_hit    BIGINT NOT NULL DEFAULT 0,
    statements_found BIGINT NOT NULL DEFAULT 0,
    statements_hit  BIGINT NOT NULL DEFAULT 0,
    functions_found BIGINT NOT NULL DEFAULT 0,
    functions_hit   BIGINT NOT NULL DEFAULT 0,
    by_statements   BOOLEAN NOT NULL DEFAULT FALSE,
    mapped          INTEGER NOT NULL DEFAULT 0,
    unmapped_count  INTEGER NOT NULL DEFAULT 0,
    unmapped        TEXT NOT NULL DEFAULT '',
    check_run_id    BIGINT NOT NULL DEFAULT 0,
    uploaded_by     TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (repository, sha, flag, content_sha256)
);
CREATE INDEX coverage_reports_commit ON coverage_reports (repository, sha);
CREATE INDEX coverage_reports_branch ON coverage_reports (repository, branch, id DESC);

CREATE TABLE coverage_files (
    report_id        BIGINT NOT NULL REFERENCES coverage_reports (id) ON DELETE CASCADE,
    path             TEXT NOT NULL,
    lines_found      BIGINT NOT NULL DEFAULT 0,
    lines_hit        BIGINT NOT NULL DEFAULT 0,
    branches_found   BIGINT NOT NULL DEFAULT 0,
    branches_hit     BIGINT NOT NULL DEFAULT 0,
    statements_found BIGINT NOT NULL DEFAULT 0,
    statements_hit   BIGINT NOT NULL DEFAULT 0,
    functions_found  BIGINT NOT NULL DEFAULT 0,
    functions_hit    BIGINT NOT NULL DEFAULT 0,
    line_data        BYTEA NOT NULL,
    PRIMARY KEY (report_id, path)
);

CREATE TABLE audit_events (
    id        BIGSERIAL PRIMARY KEY,
    at        TIMESTAMPTZ NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    subject   TEXT NOT NULL DEFAULT '',
    reason    TEXT NOT NULL DEFAULT '',
    data      TEXT NOT NULL DEFAULT '{}',
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE INDEX audit_events_action ON audit_events (action, id);

-- +goose Down
DROP TABLE audit_events;
DROP TABLE coverage_files;
DROP TABLE coverage_reports;
DROP TABLE outbox;
DROP TABLE job_events;
DROP TABLE jobs;
DROP TABLE provider_keys;
DROP TABLE repository_bindings;
DROP TABLE billing_projects;
DROP TABLE installation_repositories;
DROP TABLE installations;
DROP TABLE deliveries;
DROP TABLE api_keys;
