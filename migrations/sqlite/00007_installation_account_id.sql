-- +goose Up
-- The GitHub id of the account (user or organization) an installation is
-- on, so that a GitHub Actions token's repository_owner_id can be checked
-- against it. 0 while unknown: rows from before this migration learn it
-- from the next installation or installation_repositories webhook.
ALTER TABLE installations ADD COLUMN account_id BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE installations DROP COLUMN account_id;
