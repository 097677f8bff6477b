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

-- +goose Down
DROP TABLE audit_checkpoints;
DROP TABLE audit_keys;
