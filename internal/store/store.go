// Package store is the relay's database: SQLite (the embedded default) and
// PostgreSQL behind one set of queries. Queries are written in PostgreSQL's
// dialect and rebound for SQLite; the few statements that differ say so.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/mattn/go-sqlite3"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/patchpanda/patchpanda/internal/audit"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/migrations"
)

// The SQLite write-ahead log's bounds. A checkpoint that copies the log
// back and truncates it runs once the log passes walTruncateAt; the log is
// never left larger than journalSizeLimit after a reset. Together they keep
// the log under WALBound at sustained load (see RunCheckpoints).
const (
	walTruncateAt    = 16 << 20
	journalSizeLimit = 32 << 20
	// WALBound is the size the write-ahead log stays under at sustained
	// load: the truncation threshold plus what writers add while one
	// checkpoint waits for them (docs/operations.md).
	WALBound = 64 << 20
)

// sqliteDriver is the sqlite3 driver with the relay's per-connection
// settings, applied to every connection the pool opens, not only the
// first: no automatic checkpoint inside a commit (RunCheckpoints does them
// beside the writer, where they stall nobody), and a bound on the log
// file's size once it is reset.
const sqliteDriver = "sqlite3_patchpanda"

func init() {
	sql.Register(sqliteDriver, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		_, err := c.Exec(fmt.Sprintf("PRAGMA wal_autocheckpoint=0; PRAGMA journal_size_limit=%d", journalSizeLimit), nil)
		return err
	}})
}

// Dialect names the SQL dialect of a database.
type Dialect string

// The supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is an open database. Its embedded Queries run each statement on the
// pool; InTx runs several in one transaction.
type DB struct {
	*Queries
	sql     *sql.DB
	dialect Dialect
	path    string // the SQLite file, "" for PostgreSQL
	dsn     string
}

// Queries runs the store's statements on a pool or inside a transaction.
type Queries struct {
	q       querier
	dialect Dialect
	// Now returns the current time; tests replace it.
	Now func() time.Time
	// chain seals audit events; nil is the unkeyed chain. Shared by the
	// pool's Queries and every transaction's.
	chain **audit.Chain
	// outboxAdded counts AddOutbox calls, so a caller knows after a
	// transaction whether there is outbox work to wake.
	outboxAdded int
	// installations holds the installation rows this transaction has
	// upserted, with what it wrote (nil outside a transaction, where
	// another writer may change a row between two statements): the
	// processor's batch commits the same installation's upsert once per
	// delivery, and a repeat with the same values would only rewrite it.
	installations map[int64]installationRow
	// repos holds the installation repositories added in this transaction
	// and not written yet (repoAt: where each is), flushErr the failure of
	// writing them; see AddInstallationRepositories.
	repos    []installationRepo
	repoAt   map[[2]int64]int
	flushErr error
}

// OutboxAdded reports how many outbox entries these Queries wrote.
func (q *Queries) OutboxAdded() int { return q.outboxAdded }

type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Open connects to the database named by rawURL: "sqlite:PATH" (or
// "sqlite::memory:" for tests that need no file) or "postgres://…". It does
// not migrate. It returns an EINVALID error for a URL it cannot use, and an
// EUNAVAILABLE error when the database does not answer.
func Open(ctx context.Context, rawURL string) (*DB, error) {
	dialect, dsn, path, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	driver := "pgx"
	if dialect == SQLite {
		driver = sqliteDriver
		if dir := filepath.Dir(path); path != ":memory:" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, patchpanda.Errorf(patchpanda.EINVALID, "database %s: cannot create directory %s: %v", redactURL(rawURL), dir, err)
			}
		}
	}
	sqlDB, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", redactURL(rawURL), err)
	}
	if dialect == SQLite {
		// One writer at a time is SQLite's rule. Waiting writers would sleep
		// in SQLite's busy handler (1 ms, then up to 100 ms a try), so
		// statements queue for the one connection in Go instead, where a
		// waiter wakes the moment the connection is free. The relay's
		// statements are short; this is the embedded, one-machine mode.
		sqlDB.SetMaxOpenConns(1)
	} else {
		sqlDB.SetMaxOpenConns(32)
		sqlDB.SetMaxIdleConns(32)
	}
	if dialect == Postgres {
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		sqlDB.Close()
		return nil, patchpanda.Errorf(patchpanda.EUNAVAILABLE, "database %s does not answer: %v", redactURL(rawURL), scrub(err, rawURL))
	}
	db := &DB{sql: sqlDB, dialect: dialect, path: path, dsn: dsn}
	db.Queries = &Queries{q: sqlDB, dialect: dialect, Now: func() time.Time { return time.Now() }, chain: new(*audit.Chain)}
	return db, nil
}

// CheckURL reports whether rawURL names a database Open can use, without
// connecting. It returns the EINVALID error Open would.
func CheckURL(rawURL string) error {
	_, _, _, err := parseURL(rawURL)
	return err
}

func parseURL(rawURL string) (d Dialect, dsn, path string, err error) {
	switch {
	case strings.HasPrefix(rawURL, "sqlite:"):
		path = strings.TrimPrefix(rawURL, "sqlite:")
		path = strings.TrimPrefix(path, "//")
		if path == "" {
			return "", "", "", patchpanda.Errorf(patchpanda.EINVALID, "database URL %q has no file path (want sqlite:PATH)", rawURL)
		}
		// synchronous=FULL: a commit is on disk before the relay answers
		// 202. NORMAL, in WAL mode, lost most of the acknowledged
		// deliveries of the last seconds on a power cut; group commit
		// (intake.Recorder) pays the extra fsync once per batch.
		// _stmt_cache_size: each connection keeps its last 64 prepared
		// statements, so the queries every delivery runs (claim, finish,
		// the installation upserts) are not parsed and planned again each
		// time: 5–10 % of the relay's CPU per delivery in the intake benchmark.
		params := "_journal_mode=WAL&_foreign_keys=on&_busy_timeout=10000&_txlock=immediate&_synchronous=FULL&_stmt_cache_size=64"
		if path == ":memory:" {
			return SQLite, "file::memory:?" + params, path, nil
		}
		return SQLite, "file:" + path + "?" + params, path, nil
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		if _, err := url.Parse(rawURL); err != nil {
			return "", "", "", patchpanda.Errorf(patchpanda.EINVALID, "database URL is not a valid postgres:// URL")
		}
		return Postgres, rawURL, "", nil
	default:
		scheme, _, _ := strings.Cut(rawURL, ":")
		return "", "", "", patchpanda.Errorf(patchpanda.EINVALID, "scheme %q is not supported; use sqlite:PATH or postgres://…", scheme)
	}
}

// redactURL hides a password in a database URL so it can be logged.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	return u.Redacted()
}

// scrub removes a URL's password from a driver error's text.
func scrub(err error, raw string) string {
	msg := err.Error()
	if u, perr := url.Parse(raw); perr == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "xxxxx")
		}
	}
	return msg
}

// RunCheckpoints keeps a SQLite database's write-ahead log short until ctx
// ends. Every half second it copies what it can back into the database (a
// passive checkpoint, on a connection of its own, which waits for no
// reader or writer). A passive checkpoint never resets the log while
// writers keep it busy, so once the log passes walTruncateAt it then runs
// a TRUNCATE checkpoint: that one holds new writers back until everything
// is copied, then empties the file. It runs right after the passive one,
// so little is left to copy, and on the writers' own connection, so they
// queue for it in Go and start the moment it ends; from a connection of
// its own, writers met a busy database and slept in SQLite's busy handler
// (1, 2, 5, 10 ms…): the intake benchmark's p99 at 1.6 KB was 28–40 ms
// that way, 26–27 ms this way. For PostgreSQL it returns at once.
func (db *DB) RunCheckpoints(ctx context.Context) {
	if db.dialect != SQLite || db.path == ":memory:" {
		return
	}
	cp, err := sql.Open(sqliteDriver, db.dsn)
	if err != nil {
		return
	}
	defer cp.Close()
	cp.SetMaxOpenConns(1)
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_, _ = cp.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
			if st, err := os.Stat(db.path + "-wal"); err == nil && st.Size() > walTruncateAt {
				_, _ = db.sql.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
			}
		}
	}
}

// Writable checks that the database can take a write now: a row of the
// readiness_probe table is written in a transaction of its own (which
// fails on a read-only database or file system, or a PostgreSQL standby),
// and for SQLite the file system holding the database must have room for
// a batch of deliveries (SQLite reuses the space its log already holds, so
// a small write can succeed on a full disk where the next large one
// fails). It returns an EUNAVAILABLE error saying which.
func (db *DB) Writable(ctx context.Context) error {
	if db.dialect == SQLite && db.path != ":memory:" {
		free, err := freeBytes(filepath.Dir(db.path))
		if err == nil && free < minFreeBytes {
			return patchpanda.Errorf(patchpanda.EUNAVAILABLE, "the database's disk is full (%d KiB free)", free>>10)
		}
	}
	_, err := db.exec(ctx, `UPDATE readiness_probe SET written_at = $1 WHERE id = 1`, db.now())
	if err != nil {
		return patchpanda.Errorf(patchpanda.EUNAVAILABLE, "the database cannot take a write: %s", writeFailure(err))
	}
	return nil
}

// minFreeBytes is the room a SQLite database's disk must have to count as
// writable: a full batch of the largest deliveries, with their log frames.
const minFreeBytes = 16 << 20

// writeFailure names why a write failed without the driver's details.
func writeFailure(err error) string {
	msg := strings.ToLower(err.Error())
	switch {
	case strings.Contains(msg, "full"), strings.Contains(msg, "no space"):
		return "disk full"
	case strings.Contains(msg, "readonly"), strings.Contains(msg, "read-only"), strings.Contains(msg, "read only"):
		return "read-only"
	case strings.Contains(msg, "i/o"), strings.Contains(msg, "disk i/o"):
		return "I/O error"
	}
	return "write refused"
}

// Dialect returns the database's dialect.
func (db *DB) Dialect() Dialect { return db.dialect }

// Path returns the SQLite file's path, or "" for PostgreSQL.
func (db *DB) Path() string { return db.path }

// Close closes the pool.
func (db *DB) Close() error { return db.sql.Close() }

// Ping checks that the database answers; it returns an EUNAVAILABLE error
// when it does not.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.sql.PingContext(ctx); err != nil {
		return patchpanda.Errorf(patchpanda.EUNAVAILABLE, "database does not answer")
	}
	return nil
}

// InTxNoSync is InTx whose commit does not wait for the disk: SQLite
// commits it at synchronous=NORMAL, PostgreSQL with synchronous_commit off.
// It is for work that a power cut may take back because it would only be
// done again: a lease, or the processing of a delivery (which then is
// processed again). Both databases write their log in order, so the next
// commit that does wait (every other one: a recorded delivery's, the
// outbox's claim of its entries, a worker's claim of a job) makes this one
// durable too, and until then it is only in the database: nothing acts
// outside it on what it wrote without such a commit first. Otherwise the
// log reaches the disk within half a second (SQLite's next checkpoint,
// PostgreSQL's WAL writer). A crash of the relay alone loses nothing.
func (db *DB) InTxNoSync(ctx context.Context, fn func(q *Queries) error) error {
	if db.dialect == Postgres {
		return db.InTx(ctx, func(q *Queries) error {
			if _, err := q.exec(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
				return fmt.Errorf("store: commit without waiting for the disk: %w", err)
			}
			return fn(q)
		})
	}
	// SQLite's level is the connection's and cannot change inside a
	// transaction: set it on the one connection around this one.
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA synchronous = NORMAL`); err != nil {
		return fmt.Errorf("store: commit without waiting for the disk: %w", err)
	}
	err = db.inTx(ctx, conn, fn)
	// Whatever happened, the connection goes back to the pool waiting for
	// the disk again, or not at all.
	if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA synchronous = FULL`); rerr != nil {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		if err == nil {
			err = fmt.Errorf("store: restore synchronous=FULL: %w", rerr)
		}
	}
	return err
}

// InTx runs fn in one transaction, committing when fn returns nil and
// rolling back otherwise. fn must not keep q after it returns.
func (db *DB) InTx(ctx context.Context, fn func(q *Queries) error) error {
	return db.inTx(ctx, db.sql, fn)
}

func (db *DB) inTx(ctx context.Context, on interface {
	BeginTx(context.Context, *sql.TxOptions) (*sql.Tx, error)
}, fn func(q *Queries) error) error {
	tx, err := on.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	q := &Queries{q: tx, dialect: db.dialect, Now: db.Now, chain: db.chain, installations: map[int64]installationRow{}}
	if err := fn(q); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := q.flush(ctx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

func (db *DB) provider(logger *slog.Logger) (*goose.Provider, error) {
	sub, err := fs.Sub(migrations.FS, string(db.dialect))
	if err != nil {
		return nil, fmt.Errorf("store: migrations for %s: %w", db.dialect, err)
	}
	gd := goose.DialectSQLite3
	var opts []goose.ProviderOption
	if db.dialect == Postgres {
		gd = goose.DialectPostgres
		// Two relays starting together must not migrate at once.
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, fmt.Errorf("store: migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	if logger != nil {
		opts = append(opts, goose.WithSlog(logger))
	}
	p, err := goose.NewProvider(gd, db.sql, sub, opts...)
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	return p, nil
}

// Migrate applies every pending migration and returns the versions applied.
func (db *DB) Migrate(ctx context.Context, logger *slog.Logger) ([]int64, error) {
	p, err := db.provider(logger)
	if err != nil {
		return nil, err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: migrate up: %w", err)
	}
	versions := make([]int64, 0, len(res))
	for _, r := range res {
		versions = append(versions, r.Source.Version)
	}
	return versions, nil
}

// MigrateDown rolls every migration back, leaving an empty schema. It is
// for tests and for operators who mean it.
func (db *DB) MigrateDown(ctx context.Context) error {
	p, err := db.provider(nil)
	if err != nil {
		return err
	}
	if _, err := p.DownTo(ctx, 0); err != nil {
		return fmt.Errorf("store: migrate down: %w", err)
	}
	return nil
}

// Pending reports whether migrations remain to be applied.
func (db *DB) Pending(ctx context.Context) (bool, error) {
	p, err := db.provider(nil)
	if err != nil {
		return false, err
	}
	ok, err := p.HasPending(ctx)
	if err != nil {
		return false, fmt.Errorf("store: migration status: %w", err)
	}
	return ok, nil
}

// rebind turns PostgreSQL's $N placeholders into SQLite's ?N, which binds by
// the same explicit index.
func (q *Queries) rebind(query string) string {
	if q.dialect != SQLite || !strings.Contains(query, "$") {
		return query
	}
	b := []byte(query)
	for i := 0; i < len(b)-1; i++ {
		if b[i] == '$' && b[i+1] >= '0' && b[i+1] <= '9' {
			b[i] = '?'
		}
	}
	return string(b)
}

// exec, query and queryRow run a statement after writing what the
// transaction holds back, so that every statement sees the writes before
// it. (queryRow cannot return that write's failure; it sticks, and the
// transaction does not commit.)
func (q *Queries) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := q.flush(ctx); err != nil {
		return nil, err
	}
	return q.q.ExecContext(ctx, q.rebind(query), args...)
}

func (q *Queries) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := q.flush(ctx); err != nil {
		return nil, err
	}
	return q.q.QueryContext(ctx, q.rebind(query), args...)
}

func (q *Queries) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	_ = q.flush(ctx)
	return q.q.QueryRowContext(ctx, q.rebind(query), args...)
}

// now returns the current time in UTC, truncated to what PostgreSQL keeps,
// so a value reads back equal on both dialects.
func (q *Queries) now() time.Time { return q.Now().UTC().Truncate(time.Microsecond) }

// ts prepares a time for storage the same way now does.
func ts(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// nullTime converts a scanned nullable time into a pointer in UTC.
func nullTime(n sql.NullTime) *time.Time {
	if !n.Valid {
		return nil
	}
	t := n.Time.UTC()
	return &t
}

// notFound maps sql.ErrNoRows to an ENOTFOUND error about what.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return patchpanda.Errorf(patchpanda.ENOTFOUND, format, args...)
	}
	return err
}

// Schema describes the tables, columns and indexes of the database as sorted
// lines, so that two states of a schema can be compared (migrations up, down
// and up again must leave the same one).
func (db *DB) Schema(ctx context.Context) ([]string, error) {
	var query string
	if db.dialect == SQLite {
		query = `SELECT m.type || ' ' || m.name || ' ' || COALESCE(p.name, '') || ' ' || COALESCE(p.type, '') || ' ' || COALESCE(p."notnull", '')
			FROM sqlite_master m LEFT JOIN pragma_table_info(m.name) p ON m.type = 'table'
			WHERE m.name NOT LIKE 'sqlite_%'`
	} else {
		query = `SELECT 'column ' || table_name || ' ' || column_name || ' ' || data_type || ' ' || is_nullable
			FROM information_schema.columns WHERE table_schema = current_schema()
			UNION ALL SELECT 'index ' || tablename || ' ' || indexdef FROM pg_indexes WHERE schemaname = current_schema()`
	}
	rows, err := db.sql.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("store: schema: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("store: schema: %w", err)
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out, rows.Err()
}
