package intake

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/poll"
	"github.com/patchpanda/patchpanda/internal/store"
)

// Commit makes a handler's database changes. The processor runs it in the
// transaction that marks the delivery done, so the changes and "done" land
// together or not at all, and a delivery's changes are made once. A Commit
// may run more than once (a batch rolled back and retried one by one), so
// it must do nothing outside q.
type Commit func(ctx context.Context, q *store.Queries) error

// Handler processes one delivery: it reads and decides, then returns the
// Commit that records the outcome (nil: nothing to record). An error whose
// code is EINVALID, ENOTFOUND, EFORBIDDEN, EUNSUPPORTED or ETOOLARGE fails
// the delivery for good with that reason. An ERATELIMITED or EUNAVAILABLE
// error (or a timeout) puts the delivery off without spending an attempt:
// until the time the error names (RetryAfter), else with backoff. Any
// other error spends an attempt and is retried with backoff, until
// MaxAttempts fail the delivery with the last error as the reason.
type Handler func(ctx context.Context, d patchpanda.Delivery) (Commit, error)

// Budget tells which installations' GitHub rate limit is spent, and until
// when (githubapp.Client.Budget in the relay).
type Budget interface {
	Spent() map[int64]time.Time
}

// RetryAfter is implemented by errors that know when to try again (a
// GitHub rate limit).
type RetryAfter interface {
	RetryAfter() time.Time
}

// Observer records processing results (Prometheus, in the relay).
type Observer interface {
	Processed(event, result string)
}

// Processor works through recorded deliveries.
type Processor struct {
	DB      *store.DB
	Logger  *slog.Logger
	Handler Handler
	Metrics Observer
	// Lease is how long a claimed delivery stays with this processor before
	// another may take it over (its processor is presumed dead).
	Lease time.Duration
	// MaxAttempts bounds retries of transient failures.
	MaxAttempts int
	// Poll is how often to look for due deliveries without a wake-up.
	Poll time.Duration
	// Batch is how many deliveries to claim at once.
	Batch int
	// Gather is how long deliveries just recorded may wait to be claimed
	// together, unless a full Batch of them is waiting: under load the
	// processor then claims, handles and finishes them by the batch rather
	// than a few at a time, each batch one claim and one commit on the
	// connection the Recorder writes with. 0 claims at once.
	Gather time.Duration
	// AfterCommit, when set, is called after a commit that wrote outbox
	// entries, to wake their runners.
	AfterCommit func()
	// Budget, when set, keeps the processor from claiming the deliveries
	// of an installation whose GitHub budget is spent: they wait in the
	// table, untouched, until it resets.
	Budget Budget

	waker *poll.Waker
	// token is the lease RecordLease gives: the deliveries the Recorder
	// writes under it come to Recorded and wait in leased, oldest first,
	// to be handled without a claim.
	token string
	mu    sync.Mutex
	// leased holds the deliveries recorded under token, with the payloads
	// (and the events parsed from them) of those that fit in
	// maxLeasedBytes (the others are read from their rows); leasedBytes
	// counts those payloads.
	leased      []leasedDelivery
	leasedBytes int
	// unleased says a delivery was recorded without token's lease since
	// the last claim, or one in leased outlived its lease: the table has
	// work for a claim. lastClaim is when the last claim ran.
	unleased  bool
	lastClaim time.Time
	// stopped says Run has returned: RecordLease gives no more leases.
	stopped bool
	// recorded counts the deliveries Recorded since the last batch; armed
	// says a wake-up after Gather is pending.
	recorded atomic.Int64
	armed    atomic.Bool
}

type leasedDelivery struct {
	d     patchpanda.Delivery
	until time.Time
}

// DefaultLease is the Processor's lease on a claimed delivery, and the
// relay's default of PATCHPANDA_DELIVERY_LEASE.
const DefaultLease = time.Minute

// maxLeasedBytes bounds the payloads a Processor keeps from Recorded, and
// maxLeased the deliveries: while that many wait, RecordLease gives no
// lease, and new deliveries wait in the table to be claimed.
const (
	maxLeasedBytes = 32 << 20
	maxLeased      = 1000
)

// NewProcessor returns a Processor with the defaults: DefaultLease, 10
// attempts, a 1-second poll, batches of 100, gathered for up to 20 ms.
func NewProcessor(db *store.DB, logger *slog.Logger, h Handler, m Observer) *Processor {
	return &Processor{DB: db, Logger: logger, Handler: h, Metrics: m,
		Lease: DefaultLease, MaxAttempts: 10, Poll: time.Second, Batch: 100, Gather: 20 * time.Millisecond,
		waker: poll.NewWaker(), token: newToken()}
}

// Wake tells the processor new deliveries are waiting. It never blocks.
func (p *Processor) Wake() { p.waker.Wake() }

// RecordLease is a Recorder's Lease: new deliveries are written already
// leased to this processor, which then takes them from Recorded without
// claiming them, saving a write per delivery on the connection the
// Recorder commits on. Should this processor die, another claims them
// from the table once the lease (Lease) runs out. While maxLeased
// deliveries wait, it gives none.
func (p *Processor) RecordLease() store.Lease {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped || len(p.leased) >= maxLeased {
		return store.Lease{}
	}
	return store.Lease{Token: p.token, Until: p.DB.Now().Add(p.Lease)}
}

// Recorded is a Recorder's OnRecorded: it keeps the deliveries just
// committed under this processor's lease (with their payloads, up to 32
// MiB of them, so that they are not read back from the database), notes
// that the others wait in the table, and wakes the processor: at once when
// a full batch is waiting, else after Gather.
func (p *Processor) Recorded(ds []*patchpanda.Delivery, lease store.Lease) {
	p.mu.Lock()
	if lease.Token == p.token && p.stopped {
		// Leased just before Run returned: nobody here will handle them.
		p.mu.Unlock()
		ids := make([]int64, len(ds))
		for i, d := range ds {
			ids[i] = d.ID
		}
		p.release(ids)
		return
	}
	if lease.Token == p.token {
		for _, d := range ds {
			l := leasedDelivery{d: *d, until: lease.Until}
			if p.leasedBytes+len(d.Payload) > maxLeasedBytes {
				l.d.Payload, l.d.Parsed = nil, nil // read from its row
			}
			p.leasedBytes += len(l.d.Payload)
			p.leased = append(p.leased, l)
		}
	} else {
		p.unleased = true
	}
	p.mu.Unlock()
	if p.recorded.Add(int64(len(ds))) >= int64(p.Batch) || p.Gather <= 0 {
		p.Wake()
		return
	}
	if p.armed.CompareAndSwap(false, true) {
		time.AfterFunc(p.Gather, func() {
			p.armed.Store(false)
			p.Wake()
		})
	}
}

// Run processes deliveries until ctx is cancelled. When it returns it
// gives back the leases on the deliveries recorded for it that it did not
// get to or finish, so that the next processor (a restarted relay's)
// takes them at once rather than after the lease. A claimed delivery
// being handled when ctx ends keeps its lease and is taken up again after
// it expires.
func (p *Processor) Run(ctx context.Context) {
	poll.Run(ctx, p.waker, p.Poll, p.runBatch, func(err error) { p.Logger.Error("processing deliveries", "error", err) })
	p.mu.Lock()
	p.stopped = true
	ids := make([]int64, len(p.leased))
	for i, l := range p.leased {
		ids[i] = l.d.ID
	}
	p.leased, p.leasedBytes = nil, 0
	p.mu.Unlock()
	p.release(ids)
}

// leave keeps deliveries of a batch cut short by the end of Run for Run
// to give back, when they were leased to this processor: a claimed batch
// (another token) keeps its lease and is claimed again once it runs out.
// Their lease counts as over, so that they are never handled from memory.
func (p *Processor) leave(token string, ds ...patchpanda.Delivery) {
	if token != p.token {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, d := range ds {
		d.Payload, d.Parsed = nil, nil
		p.leased = append(p.leased, leasedDelivery{d: d})
	}
}

// release gives back this processor's leases on the deliveries ids, with
// a few seconds for it: should it fail, they wait out the lease.
func (p *Processor) release(ids []int64) {
	if len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := p.DB.ReleaseDeliveries(ctx, ids, p.token)
	if err != nil {
		p.Logger.Warn("giving back the leases of deliveries not processed; they wait out the lease", "deliveries", len(ids), "error", err)
		return
	}
	p.Logger.Info("gave back the leases of deliveries not processed", "deliveries", n)
}

// runBatch is RunOnce for Run's loop, which runs again at once while it
// reports work: it reports work while leased deliveries wait, and none
// after a batch that was not full, since that batch took all that was due,
// and what is recorded after it wakes the loop through Recorded (after
// Gather, with others).
func (p *Processor) runBatch(ctx context.Context) (int, error) {
	n, err := p.RunOnce(ctx)
	p.mu.Lock()
	waiting := len(p.leased) > 0
	p.mu.Unlock()
	switch {
	case waiting:
		n = max(n, 1)
	case n < p.Batch:
		n = 0
	}
	return n, err
}

// RunOnce claims one batch of due deliveries and processes them, returning
// how many it claimed. The batch's commits share one transaction, so the
// database commits once per batch; if any of them fails, each is committed
// (or retried) on its own.
func (p *Processor) RunOnce(ctx context.Context) (int, error) {
	p.recorded.Store(0)
	ds, token, err := p.next(ctx)
	if err != nil {
		return 0, err
	}
	loadErr := p.payloads(ctx, ds)
	type handled struct {
		d      patchpanda.Delivery
		commit Commit
	}
	var ok []handled
	for i, d := range ds {
		if ctx.Err() != nil {
			for _, h := range ok {
				p.leave(token, h.d)
			}
			p.leave(token, ds[i:]...)
			return len(ds), nil
		}
		if d.Payload == nil && loadErr != nil {
			p.fail(ctx, d, token, loadErr)
			continue
		}
		commit, err := p.handle(ctx, d)
		if err != nil {
			p.fail(ctx, d, token, err)
			continue
		}
		ok = append(ok, handled{d, commit})
	}
	if len(ok) == 0 {
		return len(ds), nil
	}
	// Processing results commit without waiting for the disk: a power cut
	// can only take back the latest of them with their "done", and those
	// deliveries are then processed again (store.InTxNoSync says why
	// nothing outside the database saw them first).
	outbox := 0
	err = p.DB.InTxNoSync(ctx, func(q *store.Queries) error {
		ids := make([]int64, 0, len(ok))
		for _, h := range ok {
			if h.commit != nil {
				if err := h.commit(ctx, q); err != nil {
					return err
				}
			}
			ids = append(ids, h.d.ID)
		}
		outbox = q.OutboxAdded()
		return q.FinishDeliveries(ctx, ids, token)
	})
	if err == nil {
		for _, h := range ok {
			p.done(h.d)
		}
		p.wakeOutbox(outbox)
		return len(ds), nil
	}
	for i, h := range ok {
		if ctx.Err() != nil {
			for _, h := range ok[i:] {
				p.leave(token, h.d)
			}
			break
		}
		outbox := 0
		err := p.DB.InTxNoSync(ctx, func(q *store.Queries) error {
			err := p.finish(ctx, q, h.d, token, h.commit)
			outbox = q.OutboxAdded()
			return err
		})
		switch {
		case err == nil:
			p.done(h.d)
			p.wakeOutbox(outbox)
		case errors.Is(err, store.ErrLeaseLost):
			p.Logger.Warn("delivery lease lost; another processor owns it", "delivery", h.d.DeliveryID)
		default:
			p.fail(ctx, h.d, token, err)
		}
	}
	return len(ds), nil
}

// next returns the next batch and the token of its lease: the deliveries
// leased to this processor as they were recorded, oldest first; or a claim
// of what is due in the table, when none of those wait, when some were
// recorded without the lease, and once a Poll (retries, deliveries
// recorded before a restart or by a relay that died). Leased deliveries
// whose lease ran out are left to that claim; those of an installation
// whose GitHub budget is spent are put off until it resets.
func (p *Processor) next(ctx context.Context) ([]patchpanda.Delivery, string, error) {
	now := p.DB.Now()
	spent := p.spentUntil()
	var ds, wait []patchpanda.Delivery
	p.mu.Lock()
	claim := len(p.leased) == 0 || p.unleased || now.Sub(p.lastClaim) >= p.Poll
	if claim {
		p.unleased, p.lastClaim = false, now
	} else {
		n := 0
		for ; n < len(p.leased) && len(ds) < p.Batch; n++ {
			l := p.leased[n]
			p.leasedBytes -= len(l.d.Payload)
			switch _, isSpent := spent[l.d.InstallationID]; {
			case !l.until.After(now):
				p.unleased = true
			case isSpent:
				wait = append(wait, l.d)
			default:
				ds = append(ds, l.d)
			}
		}
		p.leased = p.leased[n:]
		if len(p.leased) == 0 {
			p.leased = nil // let the array go
		}
	}
	p.mu.Unlock()
	for _, d := range wait {
		if err := p.DB.DeferDelivery(ctx, d.ID, p.token, spent[d.InstallationID], "waiting for the installation's GitHub rate limit"); err != nil {
			return nil, "", err
		}
		p.observe(d.Event, "deferred")
	}
	if !claim {
		return ds, p.token, nil
	}
	token := newToken()
	ds, err := p.DB.ClaimDeliveriesNoSync(ctx, p.Batch, p.Lease, token, slices.Collect(maps.Keys(spent)))
	return ds, token, err
}

// payloads fills in the payloads the deliveries lack from their rows
// (claimed deliveries come without theirs; leased ones keep theirs from
// Recorded unless they did not fit). It returns the error of reading the
// rows; the deliveries it could not fill keep a nil Payload.
func (p *Processor) payloads(ctx context.Context, ds []patchpanda.Delivery) error {
	var missing []int64
	for i := range ds {
		if ds[i].Payload == nil {
			missing = append(missing, ds[i].ID)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	stored, err := p.DB.DeliveryPayloads(ctx, missing)
	if err != nil {
		return fmt.Errorf("intake: read claimed deliveries: %w", err)
	}
	for i := range ds {
		if payload, ok := stored[ds[i].ID]; ok {
			ds[i].Payload = payload
			if payload == nil {
				ds[i].Payload = []byte{} // nil means not read
			}
		}
	}
	return nil
}

func (p *Processor) finish(ctx context.Context, q *store.Queries, d patchpanda.Delivery, token string, commit Commit) error {
	if commit != nil {
		if err := commit(ctx, q); err != nil {
			return err
		}
	}
	return q.FinishDelivery(ctx, d.ID, token, patchpanda.DeliveryDone, "")
}

// wakeOutbox tells the outbox runners when the commit left them work.
func (p *Processor) wakeOutbox(outboxEntries int) {
	if outboxEntries > 0 && p.AfterCommit != nil {
		p.AfterCommit()
	}
}

func (p *Processor) done(d patchpanda.Delivery) {
	p.observe(d.Event, "done")
	p.Logger.Debug("delivery processed", "delivery", d.DeliveryID, "event", d.Event, "action", d.Action)
}

// spentUntil returns the installations to leave alone this round, with
// the time each one's budget resets. The App's own budget is not among
// them: it holds only token mints, and a delivery that needs one is put
// off by the error it gets.
func (p *Processor) spentUntil() map[int64]time.Time {
	if p.Budget == nil {
		return nil
	}
	out := map[int64]time.Time{}
	for inst, until := range p.Budget.Spent() {
		if inst > 0 {
			out[inst] = until
		}
	}
	return out
}

// waiting reports whether err only puts the work off: a rate limit, a
// dependency that is down, a timeout. Such a try is no attempt.
func waiting(err error) bool {
	switch patchpanda.ErrorCode(err) {
	case patchpanda.ERATELIMITED, patchpanda.EUNAVAILABLE:
		return true
	}
	return errors.Is(err, context.DeadlineExceeded)
}

// fail records a failed try: put off (a rate limit or an outage: no
// attempt spent), retried with backoff, or failed for good when the error
// is permanent or the attempts are used up.
func (p *Processor) fail(ctx context.Context, d patchpanda.Delivery, token string, err error) {
	if ctx.Err() != nil {
		return // shutting down: the lease expires and the delivery is retried
	}
	log := p.Logger.With("delivery", d.DeliveryID, "event", d.Event, "action", d.Action, "attempt", d.Attempts)
	if !patchpanda.Permanent(err) && waiting(err) {
		next := time.Now().Add(patchpanda.Backoff(d.Deferrals + 1))
		var ra RetryAfter
		if errors.As(err, &ra) && !ra.RetryAfter().IsZero() {
			next = ra.RetryAfter()
		}
		if derr := p.DB.DeferDelivery(ctx, d.ID, token, next, err.Error()); derr != nil {
			log.Error("putting a delivery off", "error", derr)
		}
		p.observe(d.Event, "deferred")
		log.Info("delivery put off; no attempt spent", "error", err, "at", next)
		return
	}
	if patchpanda.Permanent(err) || d.Attempts >= p.MaxAttempts {
		reason := patchpanda.ErrorMessage(err)
		if !patchpanda.Permanent(err) {
			reason = fmt.Sprintf("gave up after %d attempts: %s", d.Attempts, err)
		}
		if ferr := p.DB.FinishDelivery(ctx, d.ID, token, patchpanda.DeliveryFailed, reason); ferr != nil {
			log.Error("recording a failed delivery", "error", ferr)
		}
		p.observe(d.Event, "failed")
		log.Warn("delivery failed", "error", err)
		return
	}
	next := time.Now().Add(patchpanda.Backoff(d.Attempts))
	if rerr := p.DB.RetryDelivery(ctx, d.ID, token, next, err.Error()); rerr != nil {
		log.Error("scheduling a delivery retry", "error", rerr)
	}
	p.observe(d.Event, "retry")
	log.Info("delivery will be retried", "error", err, "at", next)
}

// handle runs the handler, turning a panic into a permanent failure so one
// poisonous payload cannot stop the processor.
func (p *Processor) handle(ctx context.Context, d patchpanda.Delivery) (c Commit, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = patchpanda.Errorf(patchpanda.EINVALID, "processing panicked: %v", v)
		}
	}()
	return p.Handler(ctx, d)
}

func (p *Processor) observe(event, result string) {
	if p.Metrics != nil {
		p.Metrics.Processed(event, result)
	}
}

func newToken() string {
	var b [12]byte
	_, _ = crand.Read(b[:])
	return hex.EncodeToString(b[:])
}
