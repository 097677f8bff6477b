package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/patchpanda/patchpanda/internal/audit"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// SetAuditChain makes AppendAudit seal events with c (audit.OpenChain);
// nil, the default, seals them unkeyed. Call it before serving.
func (db *DB) SetAuditChain(c *audit.Chain) { *db.chain = c }

// AuditChain returns the chain AppendAudit seals with; nil when unkeyed.
func (db *DB) AuditChain() *audit.Chain { return *db.chain }

// AppendAudit seals ev onto the end of the audit chain and stores it. Run
// it inside InTx with the change it records, so both land or neither does;
// on the pool it opens its own transaction. The event's id is the tail's
// plus one, never a sequence's next value, so ids have no gaps and a
// missing id always means a deleted event.
func (q *Queries) AppendAudit(ctx context.Context, ev patchpanda.AuditEvent) (patchpanda.AuditEvent, error) {
	if pool, ok := q.q.(*sql.DB); ok {
		tx, err := pool.BeginTx(ctx, nil)
		if err != nil {
			return ev, fmt.Errorf("store: append audit: %w", err)
		}
		out, err := (&Queries{q: tx, dialect: q.dialect, Now: q.Now, chain: q.chain}).AppendAudit(ctx, ev)
		if err != nil {
			_ = tx.Rollback()
			return ev, err
		}
		if err := tx.Commit(); err != nil {
			return ev, fmt.Errorf("store: append audit: commit: %w", err)
		}
		return out, nil
	}
	if err := q.lockAudit(ctx); err != nil {
		return ev, fmt.Errorf("store: append audit: %w", err)
	}
	tail, err := q.AuditHead(ctx)
	if err != nil {
		return ev, fmt.Errorf("store: append audit: %w", err)
	}
	if ev.At.IsZero() {
		ev.At = q.now()
	}
	ev.At = ts(ev.At)
	if len(ev.Data) == 0 {
		ev.Data = json.RawMessage("{}")
	}
	ev.ID = tail.ID + 1
	ev.PrevHash = tail.Hash
	var chain *audit.Chain
	if q.chain != nil {
		chain = *q.chain
	}
	ev.Hash = chain.Seal(ev.PrevHash, ev)
	_, err = q.exec(ctx, `INSERT INTO audit_events (id, at, actor, action, subject, reason, data, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		ev.ID, ev.At, ev.Actor, ev.Action, ev.Subject, ev.Reason, string(ev.Data), ev.PrevHash, ev.Hash)
	if err != nil {
		return ev, fmt.Errorf("store: append audit %s: %w", ev.Action, err)
	}
	return ev, nil
}

// lockAudit serialises appenders so two never seal onto the same tail.
// SQLite transactions here begin IMMEDIATE, which already does.
func (q *Queries) lockAudit(ctx context.Context) error {
	if q.dialect != Postgres {
		return nil
	}
	if _, err := q.exec(ctx, `SELECT pg_advisory_xact_lock(7283)`); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	return nil
}

// AuditHead returns the newest audit event's id and hash: id 0 and
// audit.Genesis when there is none.
func (q *Queries) AuditHead(ctx context.Context) (patchpanda.AuditHead, error) {
	h := patchpanda.AuditHead{Hash: audit.Genesis}
	err := q.queryRow(ctx, `SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 1`).Scan(&h.ID, &h.Hash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return h, fmt.Errorf("store: audit head: %w", err)
	}
	return h, nil
}

// AuditEvents lists events in chain order (oldest first).
func (q *Queries) AuditEvents(ctx context.Context, f patchpanda.AuditFilter) ([]patchpanda.AuditEvent, error) {
	if f.Limit <= 0 {
		f.Limit = 1000
	}
	f.Limit = min(f.Limit, 5000)
	query := `SELECT id, at, actor, action, subject, reason, data, prev_hash, hash FROM audit_events WHERE id > $1`
	args := []any{f.AfterID}
	if f.Action != "" {
		args = append(args, f.Action)
		query += fmt.Sprintf(" AND action = $%d", len(args))
	}
	if f.Subject != "" {
		args = append(args, f.Subject)
		query += fmt.Sprintf(" AND subject = $%d", len(args))
	}
	if !f.Since.IsZero() {
		args = append(args, ts(f.Since))
		query += fmt.Sprintf(" AND at >= $%d", len(args))
	}
	args = append(args, f.Limit)
	query += fmt.Sprintf(" ORDER BY id LIMIT $%d", len(args))
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list audit events: %w", err)
	}
	defer rows.Close()
	var out []patchpanda.AuditEvent
	for rows.Next() {
		var ev patchpanda.AuditEvent
		var data string
		if err := rows.Scan(&ev.ID, &ev.At, &ev.Actor, &ev.Action, &ev.Subject, &ev.Reason, &data, &ev.PrevHash, &ev.Hash); err != nil {
			return nil, fmt.Errorf("store: list audit events: %w", err)
		}
		ev.At = ev.At.UTC()
		ev.Data = json.RawMessage(data)
		out = append(out, ev)
	}
	return out, rows.Err()
}

// AuditKey returns the chain key's record, or an ENOTFOUND error when the
// chain has no key yet.
func (q *Queries) AuditKey(ctx context.Context) (audit.KeyRecord, error) {
	var rec audit.KeyRecord
	err := q.queryRow(ctx, `SELECT ciphertext, start_id, start_hash, mac, created_at FROM audit_keys WHERE id = 1`).
		Scan(&rec.Ciphertext, &rec.Start.ID, &rec.Start.Hash, &rec.MAC, &rec.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return rec, patchpanda.Errorf(patchpanda.ENOTFOUND, "the audit chain has no key")
	}
	if err != nil {
		return rec, fmt.Errorf("store: audit key: %w", err)
	}
	rec.CreatedAt = rec.CreatedAt.UTC()
	return rec, nil
}

// CreateAuditKey stores the chain key's record with the current head as
// its start, holding the appenders' lock so no event lands in between.
// When another relay stored one first it returns that one.
func (db *DB) CreateAuditKey(ctx context.Context, ciphertext []byte, sign func(start patchpanda.AuditHead) string) (audit.KeyRecord, error) {
	err := db.InTx(ctx, func(q *Queries) error {
		if err := q.lockAudit(ctx); err != nil {
			return err
		}
		start, err := q.AuditHead(ctx)
		if err != nil {
			return err
		}
		_, err = q.exec(ctx, `INSERT INTO audit_keys (id, ciphertext, start_id, start_hash, mac, created_at)
			VALUES (1, $1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`,
			ciphertext, start.ID, start.Hash, sign(start), q.now())
		return err
	})
	if err != nil {
		return audit.KeyRecord{}, fmt.Errorf("store: create audit key: %w", err)
	}
	return db.AuditKey(ctx)
}

// AddAuditCheckpoint stores cp and returns it with its id.
func (q *Queries) AddAuditCheckpoint(ctx context.Context, cp patchpanda.AuditCheckpoint) (patchpanda.AuditCheckpoint, error) {
	cp.At = ts(cp.At)
	err := q.queryRow(ctx, `INSERT INTO audit_checkpoints (event_id, hash, reason, at, mac) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		cp.EventID, cp.Hash, cp.Reason, cp.At, cp.MAC).Scan(&cp.ID)
	if err != nil {
		return cp, fmt.Errorf("store: add audit checkpoint: %w", err)
	}
	return cp, nil
}

// LastAuditCheckpoint returns the newest checkpoint, or an ENOTFOUND error
// when none was taken.
func (q *Queries) LastAuditCheckpoint(ctx context.Context) (patchpanda.AuditCheckpoint, error) {
	cps, err := q.auditCheckpoints(ctx, `SELECT id, event_id, hash, reason, at, mac FROM audit_checkpoints ORDER BY id DESC LIMIT 1`)
	if err != nil {
		return patchpanda.AuditCheckpoint{}, err
	}
	if len(cps) == 0 {
		return patchpanda.AuditCheckpoint{}, patchpanda.Errorf(patchpanda.ENOTFOUND, "no audit checkpoint was taken")
	}
	return cps[0], nil
}

// AuditCheckpoints lists checkpoints in id order after the checkpoint
// afterID, at most limit (5000 at most).
func (q *Queries) AuditCheckpoints(ctx context.Context, afterID int64, limit int) ([]patchpanda.AuditCheckpoint, error) {
	limit = min(max(limit, 1), 5000)
	return q.auditCheckpoints(ctx, `SELECT id, event_id, hash, reason, at, mac FROM audit_checkpoints WHERE id > $1 ORDER BY id LIMIT $2`, afterID, limit)
}

func (q *Queries) auditCheckpoints(ctx context.Context, query string, args ...any) ([]patchpanda.AuditCheckpoint, error) {
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: audit checkpoints: %w", err)
	}
	defer rows.Close()
	var out []patchpanda.AuditCheckpoint
	for rows.Next() {
		var cp patchpanda.AuditCheckpoint
		if err := rows.Scan(&cp.ID, &cp.EventID, &cp.Hash, &cp.Reason, &cp.At, &cp.MAC); err != nil {
			return nil, fmt.Errorf("store: audit checkpoints: %w", err)
		}
		cp.At = cp.At.UTC()
		out = append(out, cp)
	}
	return out, rows.Err()
}

// ExecRaw runs one statement as written (PostgreSQL placeholders, rebound
// for SQLite) and returns the rows affected. It bypasses every rule the
// store keeps: it exists for tests that play an attacker with write access
// to the database, and for repairs by hand.
func (db *DB) ExecRaw(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := db.exec(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("store: exec: %w", err)
	}
	return res.RowsAffected()
}
