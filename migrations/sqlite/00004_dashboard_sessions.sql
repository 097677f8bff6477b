-- +goose Up
-- Dashboard sign-in sessions. The cookie carries a random id; only its
-- SHA-256 is stored, so a copy of the database signs nobody in.
CREATE TABLE dashboard_sessions (
    id_hash      BLOB PRIMARY KEY,
    subject      TEXT NOT NULL,
    email        TEXT NOT NULL DEFAULT '',
    name         TEXT NOT NULL DEFAULT '',
    login        TEXT NOT NULL DEFAULT '',
    groups_json  TEXT NOT NULL DEFAULT '[]',
    csrf_token   TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL
);
CREATE INDEX dashboard_sessions_expires ON dashboard_sessions (expires_at);

-- +goose Down
DROP TABLE dashboard_sessions;
