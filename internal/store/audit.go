package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/patchpanda/patchpanda/internal/audit"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// AppendAudit seals ev onto the end of the audit chain and stores it. Run
// it inside InTx with the change it records, so both land or neither does;
// on the pool it opens its own transaction.
func (q *Queries) AppendAudit(ctx context.Context, ev patchpanda.AuditEvent) (patchpanda.AuditEvent, error) {
	if pool, ok := q.q.(*sql.DB); ok {
		tx, err := pool.BeginTx(ctx, nil)
		if err != nil {
			return ev, fmt.Errorf("store: append audit: %w", err)
		}
		out, err := (&Queries{q: tx, dialect: q.dialect, Now: q.Now}).AppendAudit(ctx, ev)
		if err != nil {
			_ = tx.Rollback()
			return ev, err
		}
		return out, tx.Commit()
	}
	if q.dialect == Postgres {
		// Serialise appenders so two never seal onto the same tail.
		if _, err := q.exec(ctx, `SELECT pg_advisory_xact_lock(7283)`); err != nil {
			return ev, fmt.Errorf("store: append audit: lock: %w", err)
		}
	}
	prev := audit.Genesis
	err := q.queryRow(ctx, `SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1`).Scan(&prev)
	if err != nil && err != sql.ErrNoRows {
		return ev, fmt.Errorf("store: append audit: read tail: %w", err)
	}
	if ev.At.IsZero() {
		ev.At = q.now()
	}
	ev.At = ts(ev.At)
	if len(ev.Data) == 0 {
		ev.Data = json.RawMessage("{}")
	}
	ev.PrevHash = prev
	ev.Hash = audit.Hash(prev, ev)
	err = q.queryRow(ctx, `INSERT INTO audit_events (at, actor, action, subject, reason, data, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		ev.At, ev.Actor, ev.Action, ev.Subject, ev.Reason, string(ev.Data), ev.PrevHash, ev.Hash).Scan(&ev.ID)
	if err != nil {
		return ev, fmt.Errorf("store: append audit %s: %w", ev.Action, err)
	}
	return ev, nil
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
