-- +goose Up
-- The audit chain's key, wrapped by the secrets keeper, and the last event
-- sealed before it existed (see internal/audit and docs/security.md).
CREATE TABLE audit_keys (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    ciphertext BLOB NOT NULL,
    start_id   BIGINT NOT NULL,
    start_hash TEXT NOT NULL,
    mac        TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- Signed heads of the audit chain, kept apart from the events.
CREATE TABLE audit_checkpoints (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id BIGINT NOT NULL,
    hash     TEXT NOT NULL,
    reason   TEXT NOT NULL,
    at       TIMESTAMP NOT NULL,
    mac      TEXT NOT NULL DEFAULT ''
);

-- A coverage series is a repository by id when the App knows the id
-- ("id:123"), so a rename keeps the history and a re-created repository
-- with the same name starts its own; otherwise by its name without case
-- ("name:acme/api"). Existing reports take the id their name has now.
ALTER TABLE coverage_reports ADD COLUMN repository_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE coverage_reports ADD COLUMN series TEXT NOT NULL DEFAULT '';
UPDATE coverage_reports SET
    repository_id = COALESCE((SELECT r.repository_id FROM installation_repositories r
        WHERE LOWER(r.full_name) = LOWER(coverage_reports.repository) ORDER BY r.repository_id DESC LIMIT 1), 0);
UPDATE coverage_reports SET series = CASE WHEN repository_id > 0
    THEN 'id:' || CAST(repository_id AS TEXT) ELSE 'name:' || LOWER(repository) END;
CREATE INDEX coverage_reports_series ON coverage_reports (series, sha);
CREATE INDEX coverage_reports_series_branch ON coverage_reports (series, branch, id);
CREATE INDEX installation_repositories_id ON installation_repositories (repository_id);

-- A billing binding follows its repository's id in the same way.
ALTER TABLE repository_bindings ADD COLUMN repository_id BIGINT NOT NULL DEFAULT 0;
UPDATE repository_bindings SET
    repository_id = COALESCE((SELECT r.repository_id FROM installation_repositories r
        WHERE LOWER(r.full_name) = repository_bindings.repository ORDER BY r.repository_id DESC LIMIT 1), 0);
CREATE INDEX repository_bindings_id ON repository_bindings (repository_id) WHERE repository_id > 0;

-- +goose Down
DROP INDEX repository_bindings_id;
ALTER TABLE repository_bindings DROP COLUMN repository_id;
DROP INDEX installation_repositories_id;
DROP INDEX coverage_reports_series_branch;
DROP INDEX coverage_reports_series;
ALTER TABLE coverage_reports DROP COLUMN series;
ALTER TABLE coverage_reports DROP COLUMN repository_id;
DROP TABLE audit_checkpoints;
DROP TABLE audit_keys;
