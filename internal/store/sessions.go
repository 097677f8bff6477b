package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Session is a dashboard sign-in: who signed in, with the claims roles are
// decided by, and when it stops being valid. The session id itself is never
// stored, only its hash.
type Session struct {
	Subject string
	Email   string
	Name    string
	Login   string // GitHub login, when the identity provider gives one
	Groups  []string
	// CSRFToken is the token every form POST of the session must carry.
	CSRFToken  string
	CreatedAt  time.Time
	LastSeenAt time.Time
	// ExpiresAt is the absolute end of the session, however active.
	ExpiresAt time.Time
}

// CreateSession stores s under idHash (the SHA-256 of the cookie's id).
func (q *Queries) CreateSession(ctx context.Context, idHash []byte, s Session) error {
	groups, err := json.Marshal(s.Groups)
	if err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	if s.Groups == nil {
		groups = []byte("[]")
	}
	_, err = q.exec(ctx, `INSERT INTO dashboard_sessions (id_hash, subject, email, name, login, groups_json, csrf_token, created_at, last_seen_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		idHash, s.Subject, s.Email, s.Name, s.Login, string(groups), s.CSRFToken, ts(s.CreatedAt), ts(s.LastSeenAt), ts(s.ExpiresAt))
	if err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	return nil
}

// SessionByHash returns the session stored under idHash, expired or not.
// It returns an ENOTFOUND error when there is none.
func (q *Queries) SessionByHash(ctx context.Context, idHash []byte) (Session, error) {
	var s Session
	var groups string
	err := q.queryRow(ctx, `SELECT subject, email, name, login, groups_json, csrf_token, created_at, last_seen_at, expires_at
		FROM dashboard_sessions WHERE id_hash = $1`, idHash).
		Scan(&s.Subject, &s.Email, &s.Name, &s.Login, &groups, &s.CSRFToken, &s.CreatedAt, &s.LastSeenAt, &s.ExpiresAt)
	if err != nil {
		return s, fmt.Errorf("store: session: %w", notFound(err, "session not found"))
	}
	if err := json.Unmarshal([]byte(groups), &s.Groups); err != nil {
		return s, fmt.Errorf("store: session: groups: %w", err)
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = s.CreatedAt.UTC(), s.LastSeenAt.UTC(), s.ExpiresAt.UTC()
	return s, nil
}

// TouchSession records activity on the session under idHash.
func (q *Queries) TouchSession(ctx context.Context, idHash []byte, at time.Time) error {
	if _, err := q.exec(ctx, `UPDATE dashboard_sessions SET last_seen_at = $1 WHERE id_hash = $2`, ts(at), idHash); err != nil {
		return fmt.Errorf("store: touch session: %w", err)
	}
	return nil
}

// DeleteSession ends the session under idHash; ending one that does not
// exist is not an error.
func (q *Queries) DeleteSession(ctx context.Context, idHash []byte) error {
	if _, err := q.exec(ctx, `DELETE FROM dashboard_sessions WHERE id_hash = $1`, idHash); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// DeleteSessionsBefore removes sessions whose absolute expiry, or whose
// last activity, is before the given times, and returns how many it
// removed.
func (q *Queries) DeleteSessionsBefore(ctx context.Context, expiredBy, idleSince time.Time) (int64, error) {
	res, err := q.exec(ctx, `DELETE FROM dashboard_sessions WHERE expires_at < $1 OR last_seen_at < $2`, ts(expiredBy), ts(idleSince))
	if err != nil {
		return 0, fmt.Errorf("store: delete old sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// PullRequestCoverageSHA returns the commit of the newest coverage report
// uploaded for pull request number of repo. It returns an ENOTFOUND error
// when there is none.
func (q *Queries) PullRequestCoverageSHA(ctx context.Context, repo string, number int) (string, error) {
	var sha string
	err := q.queryRow(ctx, `SELECT sha FROM coverage_reports WHERE repository = $1 AND pr_number = $2 ORDER BY id DESC LIMIT 1`,
		repo, number).Scan(&sha)
	if err != nil {
		return "", fmt.Errorf("store: coverage of %s#%d: %w", repo, number, notFound(err, "no coverage was uploaded for %s#%d", repo, number))
	}
	return sha, nil
}
