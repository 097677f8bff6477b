package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// ErrLeaseLost is returned when finishing work whose lease another
// processor has taken over.
var ErrLeaseLost = patchpanda.Errorf(patchpanda.ECONFLICT, "lease lost to another processor")

// Lease is a claim on recorded work: who holds it and until when. The
// zero Lease is none.
type Lease struct {
	Token string
	Until time.Time
}

// RecordDeliveries stores deliveries in one statement, skipping any whose
// App and delivery id are known (or repeated earlier in ds), and reports
// for each whether it is new. ReceivedAt is set when zero.
func (q *Queries) RecordDeliveries(ctx context.Context, ds []*patchpanda.Delivery) ([]bool, error) {
	return q.RecordLeasedDeliveries(ctx, ds, Lease{})
}

// RecordLeasedDeliveries is RecordDeliveries writing the new deliveries
// already claimed under lease (their first attempt), as ClaimDeliveries
// would: the processor that holds the lease takes them from the caller
// without claiming them, and the next claimant after lease.Until from the
// table. A zero lease leaves them to be claimed.
func (q *Queries) RecordLeasedDeliveries(ctx context.Context, ds []*patchpanda.Delivery, lease Lease) ([]bool, error) {
	if len(ds) == 0 {
		return nil, nil
	}
	now := q.now()
	args := make([]any, 0, len(ds)*10+2)
	for _, d := range ds {
		if d.ReceivedAt.IsZero() {
			d.ReceivedAt = now
		}
		d.ReceivedAt = ts(d.ReceivedAt)
		d.State = patchpanda.DeliveryPending
		args = append(args, d.AppID, d.DeliveryID, d.Event, d.Action, d.InstallationID, d.Repository, d.RepositoryID, d.Sender, packPayload(d.Payload), d.ReceivedAt)
	}
	leased := lease.Token != ""
	if leased {
		args = append(args, ts(lease.Until), lease.Token)
	}
	rows, err := q.query(ctx, recordDeliveriesSQL(len(ds), leased), args...)
	if err != nil {
		return nil, fmt.Errorf("store: record %d deliveries: %w", len(ds), err)
	}
	defer rows.Close()
	type key struct {
		app int64
		id  string
	}
	inserted := make(map[key]int64, len(ds))
	for rows.Next() {
		var k key
		var id int64
		if err := rows.Scan(&id, &k.app, &k.id); err != nil {
			return nil, fmt.Errorf("store: record deliveries: %w", err)
		}
		inserted[k] = id
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: record deliveries: %w", err)
	}
	out := make([]bool, len(ds))
	for i, d := range ds {
		k := key{d.AppID, d.DeliveryID}
		if id, ok := inserted[k]; ok {
			d.ID, out[i] = id, true
			delete(inserted, k) // a repeat later in ds is not new
			if leased {
				d.Attempts = 1
			}
		}
	}
	return out, nil
}

// recordDeliveriesSQL is RecordDeliveries' statement for n deliveries,
// ten parameters each (received_at is also next_attempt_at), and when
// leased two more for all of them: locked_until and lease_token. It is
// built on the one writer's path for every batch, so without fmt.
func recordDeliveriesSQL(n int, leased bool) string {
	const head = `INSERT INTO deliveries (app_id, delivery_id, event, action, installation_id, repository, repository_id, sender, payload, received_at, next_attempt_at`
	const tail = ` ON CONFLICT (app_id, delivery_id) DO NOTHING RETURNING id, app_id, delivery_id`
	b := make([]byte, 0, len(head)+len(tail)+n*80)
	b = append(b, head...)
	if leased {
		b = append(b, ", locked_until, lease_token, attempts"...)
	}
	b = append(b, ") VALUES "...)
	for i := range n {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, '(')
		for j := 1; j <= 11; j++ {
			if j > 1 {
				b = append(b, ", "...)
			}
			b = append(b, '$')
			b = strconv.AppendInt(b, int64(i*10+min(j, 10)), 10)
		}
		if leased {
			b = append(b, ", $"...)
			b = strconv.AppendInt(b, int64(n*10+1), 10)
			b = append(b, ", $"...)
			b = strconv.AppendInt(b, int64(n*10+2), 10)
			b = append(b, ", 1"...)
		}
		b = append(b, ')')
	}
	return string(append(b, tail...))
}

const deliveryColumns = `id, app_id, delivery_id, event, action, installation_id, repository, repository_id, sender, payload, received_at, state, attempts, deferrals, last_error`

func scanDelivery(row interface{ Scan(...any) error }) (patchpanda.Delivery, error) {
	var d patchpanda.Delivery
	err := row.Scan(&d.ID, &d.AppID, &d.DeliveryID, &d.Event, &d.Action, &d.InstallationID, &d.Repository,
		&d.RepositoryID, &d.Sender, &d.Payload, &d.ReceivedAt, &d.State, &d.Attempts, &d.Deferrals, &d.LastError)
	d.ReceivedAt = d.ReceivedAt.UTC()
	if err == nil && len(d.Payload) > 0 {
		d.Payload, err = unpackPayload(d.Payload)
	}
	return d, err
}

// ClaimDeliveries leases up to limit pending deliveries that are due, for
// lease, under token, and returns them oldest first. A delivery whose lease
// runs out (its processor died) is claimed again by the next caller.
func (q *Queries) ClaimDeliveries(ctx context.Context, limit int, lease time.Duration, token string) ([]patchpanda.Delivery, error) {
	return q.ClaimDeliveriesExcept(ctx, limit, lease, token, nil)
}

// ClaimDeliveriesExcept is ClaimDeliveries leaving alone the deliveries of
// the installations in skip (their GitHub budget is spent): they are not
// claimed, so not rewritten, until the caller stops skipping them.
func (q *Queries) ClaimDeliveriesExcept(ctx context.Context, limit int, lease time.Duration, token string, skip []int64) ([]patchpanda.Delivery, error) {
	return q.claimDeliveries(ctx, limit, lease, token, skip, true)
}

// ClaimDeliveriesWithoutPayload is ClaimDeliveriesExcept leaving each
// delivery's Payload nil: a caller that still holds the payloads of
// deliveries it recorded moments ago need not read them back (and inflate
// them), and fetches the others with DeliveryPayloads.
func (q *Queries) ClaimDeliveriesWithoutPayload(ctx context.Context, limit int, lease time.Duration, token string, skip []int64) ([]patchpanda.Delivery, error) {
	return q.claimDeliveries(ctx, limit, lease, token, skip, false)
}

// ClaimDeliveriesNoSync is ClaimDeliveriesWithoutPayload committed by
// InTxNoSync: a lease needs no durability of its own, and a power cut
// before the next commit that waits loses only the lease and its attempt;
// the delivery is claimed again. On SQLite it saves the processor one fsync
// (1.5–2 ms on the benchmark's disk) per batch on the one connection the
// Recorder also writes with.
func (db *DB) ClaimDeliveriesNoSync(ctx context.Context, limit int, lease time.Duration, token string, skip []int64) ([]patchpanda.Delivery, error) {
	var out []patchpanda.Delivery
	err := db.InTxNoSync(ctx, func(q *Queries) error {
		var err error
		out, err = q.claimDeliveries(ctx, limit, lease, token, skip, false)
		return err
	})
	return out, err
}

func (q *Queries) claimDeliveries(ctx context.Context, limit int, lease time.Duration, token string, skip []int64, withPayload bool) ([]patchpanda.Delivery, error) {
	now := q.now()
	skipLocked := ""
	if q.dialect == Postgres {
		skipLocked = " FOR UPDATE SKIP LOCKED"
	}
	columns := deliveryColumns
	if !withPayload {
		columns = strings.Replace(columns, "payload", q.noPayload(), 1)
	}
	args := []any{now.Add(lease), token, now, limit}
	args, except := exceptInstallations(args, skip)
	rows, err := q.query(ctx, `UPDATE deliveries SET locked_until = $1, lease_token = $2, attempts = attempts + 1
		WHERE id IN (SELECT id FROM deliveries WHERE state = 'pending' AND next_attempt_at <= $3
			AND (locked_until IS NULL OR locked_until < $3)`+except+` ORDER BY id LIMIT $4`+skipLocked+`)
		RETURNING `+columns, args...)
	if err != nil {
		return nil, fmt.Errorf("store: claim deliveries: %w", err)
	}
	defer rows.Close()
	var out []patchpanda.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("store: claim deliveries: %w", err)
		}
		if !withPayload {
			d.Payload = nil
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: claim deliveries: %w", err)
	}
	// RETURNING does not promise an order.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].ID < out[j-1].ID; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out, nil
}

// DeliveryPayloads returns the payloads of the deliveries with the given
// row ids, by id; an id with no row is missing from the map.
func (q *Queries) DeliveryPayloads(ctx context.Context, ids []int64) (map[int64][]byte, error) {
	out := make(map[int64][]byte, len(ids))
	for chunk := range slices.Chunk(ids, 100) {
		args, in := inList(nil, chunk)
		if err := q.deliveryPayloads(ctx, out, `SELECT id, payload FROM deliveries WHERE id IN (`+in+`)`, args); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (q *Queries) deliveryPayloads(ctx context.Context, out map[int64][]byte, query string, args []any) error {
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("store: delivery payloads: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var p []byte
		if err := rows.Scan(&id, &p); err != nil {
			return fmt.Errorf("store: delivery payloads: %w", err)
		}
		if p, err = unpackPayload(p); err != nil {
			return fmt.Errorf("store: delivery %d: %w", id, err)
		}
		out[id] = p
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: delivery payloads: %w", err)
	}
	return nil
}

// noPayload is an empty blob in the dialect, to select in a payload's
// place.
func (q *Queries) noPayload() string {
	if q.dialect == Postgres {
		return "''::bytea"
	}
	return "x''"
}

// FinishDelivery ends a claimed delivery as done or failed (with reason).
// It returns an ECONFLICT error when the lease under token was lost, so the
// caller's transaction rolls back and the work is not done twice.
func (q *Queries) FinishDelivery(ctx context.Context, id int64, token, state, reason string) error {
	res, err := q.exec(ctx, `UPDATE deliveries SET state = $1, last_error = $2, processed_at = $3, locked_until = NULL, lease_token = ''
		WHERE id = $4 AND lease_token = $5 AND state = 'pending'`, state, reason, q.now(), id, token)
	if err != nil {
		return fmt.Errorf("store: finish delivery %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("store: finish delivery %d: %w", id, ErrLeaseLost)
	}
	return nil
}

// FinishDeliveries marks deliveries claimed together under token done, in
// one statement. It returns ErrLeaseLost (and changes nothing the caller's
// transaction keeps) unless every one of them was still held.
func (q *Queries) FinishDeliveries(ctx context.Context, ids []int64, token string) error {
	if len(ids) == 0 {
		return nil
	}
	args, in := inList([]any{q.now(), token}, ids)
	res, err := q.exec(ctx, `UPDATE deliveries SET state = 'done', last_error = '', processed_at = $1, locked_until = NULL, lease_token = ''
		WHERE lease_token = $2 AND state = 'pending' AND id IN (`+in+`)`, args...)
	if err != nil {
		return fmt.Errorf("store: finish %d deliveries: %w", len(ids), err)
	}
	if n, _ := res.RowsAffected(); n != int64(len(ids)) {
		return fmt.Errorf("store: finish %d deliveries: %w", len(ids), ErrLeaseLost)
	}
	return nil
}

// RetryDelivery releases a claimed delivery to be tried again at next,
// recording why it failed this time.
func (q *Queries) RetryDelivery(ctx context.Context, id int64, token string, next time.Time, reason string) error {
	_, err := q.exec(ctx, `UPDATE deliveries SET next_attempt_at = $1, last_error = $2, locked_until = NULL, lease_token = ''
		WHERE id = $3 AND lease_token = $4 AND state = 'pending'`, ts(next), reason, id, token)
	if err != nil {
		return fmt.Errorf("store: retry delivery %d: %w", id, err)
	}
	return nil
}

// ReleaseDeliveries gives back the leases token holds on the deliveries
// with the given row ids that are not finished, with the attempt each
// lease counted, so that the next claim takes them at once. It returns
// how many it released.
func (q *Queries) ReleaseDeliveries(ctx context.Context, ids []int64, token string) (int, error) {
	released := 0
	for chunk := range slices.Chunk(ids, 500) {
		args, in := inList([]any{token}, chunk)
		res, err := q.exec(ctx, `UPDATE deliveries SET locked_until = NULL, lease_token = '', attempts = attempts - 1
			WHERE lease_token = $1 AND state = 'pending' AND id IN (`+in+`)`, args...)
		if err != nil {
			return released, fmt.Errorf("store: release %d deliveries: %w", len(chunk), err)
		}
		n, _ := res.RowsAffected()
		released += int(n)
	}
	return released, nil
}

// DeferDelivery releases a claimed delivery to be tried again at next
// without spending an attempt: the try was put off by a rate limit or an
// unavailable dependency, not failed by the delivery. It counts a deferral
// and records why.
func (q *Queries) DeferDelivery(ctx context.Context, id int64, token string, next time.Time, reason string) error {
	_, err := q.exec(ctx, `UPDATE deliveries SET next_attempt_at = $1, last_error = $2, locked_until = NULL, lease_token = '',
			attempts = attempts - 1, deferrals = deferrals + 1
		WHERE id = $3 AND lease_token = $4 AND state = 'pending'`, ts(next), reason, id, token)
	if err != nil {
		return fmt.Errorf("store: defer delivery %d: %w", id, err)
	}
	return nil
}

// DeliveryFilter selects deliveries to list.
type DeliveryFilter struct {
	State string // "" for any
	// Before lists deliveries with an id below it (keyset pagination);
	// 0 starts at the newest.
	Before int64
	Limit  int // 1 to 500; 0 means 100
}

// Deliveries lists recorded deliveries, newest first, without payloads.
func (q *Queries) Deliveries(ctx context.Context, f DeliveryFilter) ([]patchpanda.Delivery, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	f.Limit = min(f.Limit, 500)
	where, args := []string{"1 = 1"}, []any{}
	if f.State != "" {
		args = append(args, f.State)
		where = append(where, fmt.Sprintf("state = $%d", len(args)))
	}
	if f.Before > 0 {
		args = append(args, f.Before)
		where = append(where, fmt.Sprintf("id < $%d", len(args)))
	}
	args = append(args, f.Limit)
	// The payload is not listed: an empty blob in its place.
	rows, err := q.query(ctx, `SELECT id, app_id, delivery_id, event, action, installation_id, repository, repository_id, sender, `+q.noPayload()+`, received_at, state, attempts, deferrals, last_error
		FROM deliveries WHERE `+strings.Join(where, " AND ")+fmt.Sprintf(" ORDER BY id DESC LIMIT $%d", len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("store: list deliveries: %w", err)
	}
	defer rows.Close()
	var out []patchpanda.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list deliveries: %w", err)
		}
		d.Payload = nil
		out = append(out, d)
	}
	return out, rows.Err()
}

// RetryFailedDelivery puts a failed delivery back to be processed now,
// with its attempts reset. It returns an ENOTFOUND error for an unknown id
// and an ECONFLICT error for a delivery that has not failed.
func (q *Queries) RetryFailedDelivery(ctx context.Context, id int64) (patchpanda.Delivery, error) {
	res, err := q.exec(ctx, `UPDATE deliveries SET state = 'pending', attempts = 0, deferrals = 0, next_attempt_at = $1,
			locked_until = NULL, lease_token = '', processed_at = NULL
		WHERE id = $2 AND state = 'failed'`, q.now(), id)
	if err != nil {
		return patchpanda.Delivery{}, fmt.Errorf("store: retry delivery %d: %w", id, err)
	}
	d, gerr := scanDelivery(q.queryRow(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE id = $1`, id))
	if gerr != nil {
		return d, fmt.Errorf("store: retry delivery %d: %w", id, notFound(gerr, "delivery %d not found", id))
	}
	d.Payload = nil
	if n, _ := res.RowsAffected(); n != 1 {
		return d, patchpanda.Errorf(patchpanda.ECONFLICT, "delivery %d is %s, not failed: only a failed delivery can be retried", id, d.State)
	}
	return d, nil
}

// Delivery returns one recorded delivery by App and delivery id. It returns
// an ENOTFOUND error when there is none.
func (q *Queries) Delivery(ctx context.Context, appID int64, deliveryID string) (patchpanda.Delivery, error) {
	d, err := scanDelivery(q.queryRow(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE app_id = $1 AND delivery_id = $2`, appID, deliveryID))
	if err != nil {
		return d, fmt.Errorf("store: delivery %s: %w", deliveryID, notFound(err, "delivery %s not found", deliveryID))
	}
	return d, nil
}

// KnownDeliveries returns which of ids the relay has recorded for the App.
func (q *Queries) KnownDeliveries(ctx context.Context, appID int64, ids []string) (map[string]bool, error) {
	known := make(map[string]bool, len(ids))
	for chunk := range slices.Chunk(ids, 100) {
		args, in := inList([]any{appID}, chunk)
		rows, err := q.query(ctx, `SELECT delivery_id FROM deliveries WHERE app_id = $1 AND delivery_id IN (`+in+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("store: known deliveries: %w", err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: known deliveries: %w", err)
			}
			known[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: known deliveries: %w", err)
		}
	}
	return known, nil
}

// DeliveryCounts returns how many deliveries are in each state.
func (q *Queries) DeliveryCounts(ctx context.Context) (map[string]int, error) {
	rows, err := q.query(ctx, `SELECT state, COUNT(*) FROM deliveries GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("store: delivery counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("store: delivery counts: %w", err)
		}
		out[s] = n
	}
	return out, rows.Err()
}

// exceptInstallations returns the SQL that leaves out rows of the
// installations in skip (waiting on a rate limit), with their ids appended
// to args as its parameters; "" when skip is empty.
func exceptInstallations(args []any, skip []int64) ([]any, string) {
	if len(skip) == 0 {
		return args, ""
	}
	args, in := inList(args, skip)
	return args, " AND installation_id NOT IN (" + in + ")"
}

// inList appends vals to a statement's args and returns them with the
// placeholders that name them, "$4, $5, $6" after three: the list of an
// IN (…).
func inList[T any](args []any, vals []T) ([]any, string) {
	b := make([]byte, 0, len(vals)*5)
	for i, v := range vals {
		args = append(args, v)
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(args)), 10)
	}
	return args, string(b)
}
