-- +goose Up
-- A commit's coverage merged over its reports, kept up to date as each
-- report arrives, so that totals and patch coverage never reload every
-- report of the commit.
CREATE TABLE coverage_commit_files (
    -- the repository's coverage series (store.seriesKey: "id:N", or
    -- "name:owner/name" while its id is unknown), so a rename keeps it
    series           TEXT NOT NULL,
    sha              TEXT NOT NULL,
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
    PRIMARY KEY (series, sha, path)
);
-- Reports stored before this migration are merged in the first time their
-- commit is read.
ALTER TABLE coverage_reports ADD COLUMN merged BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE coverage_reports DROP COLUMN merged;
DROP TABLE coverage_commit_files;
