package audit

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// Log is what Verifier reads.
type Log interface {
	KeyStore
	// AuditEvents lists events in id order after f.AfterID.
	AuditEvents(ctx context.Context, f patchpanda.AuditFilter) ([]patchpanda.AuditEvent, error)
	// AuditCheckpoints lists checkpoints in id order after the checkpoint
	// afterID, at most limit.
	AuditCheckpoints(ctx context.Context, afterID int64, limit int) ([]patchpanda.AuditCheckpoint, error)
}

// Verifier checks a relay's audit chain from its first event.
type Verifier struct {
	Log   Log
	Chain *Chain // nil: the chain is not keyed
}

// pageSize is how many events Verify reads at a time: memory stays flat
// however long the chain is.
const pageSize = 5000

// Verify reads the whole chain and its checkpoints and reports the first
// problem: an event whose seal does not match its content or its
// predecessor, missing ids, an event other than the one a checkpoint
// vouches for, or a chain that ends before the newest checkpoint. expect,
// when non-nil, is a head the caller saw elsewhere (the relay's log) and is
// checked like a checkpoint. It returns an error only when the database
// cannot be read.
func (v *Verifier) Verify(ctx context.Context, expect *patchpanda.AuditHead) (patchpanda.AuditReport, error) {
	rep := patchpanda.AuditReport{Keyed: v.Chain.Keyed()}
	start := v.Chain.Start()
	if v.Chain.Keyed() {
		rep.KeyedAfter = start.ID
		rec, err := v.Log.AuditKey(ctx)
		if err != nil && patchpanda.ErrorCode(err) != patchpanda.ENOTFOUND {
			return rep, err
		}
		if err != nil || rec.Start != start || !equal(rec.MAC, v.Chain.signStart()) {
			rep.Problem = &patchpanda.AuditProblem{Kind: patchpanda.AuditBadKey, EventID: start.ID + 1,
				Message: "the chain key's record was removed or changed since the relay started"}
			return rep, nil
		}
	}
	cps, err := v.checkpoints(ctx)
	if err != nil {
		return rep, err
	}
	if len(cps) > 0 {
		rep.Checkpoint = &cps[len(cps)-1]
	}
	for _, cp := range cps {
		if !v.Chain.Keyed() || (cp.MAC == "" && cp.EventID <= start.ID) {
			continue // taken before the chain had a key
		}
		if !equal(cp.MAC, v.Chain.SignCheckpoint(cp)) {
			rep.Problem = &patchpanda.AuditProblem{Kind: patchpanda.AuditBadCheckpoint, EventID: cp.EventID,
				Message: fmt.Sprintf("checkpoint %d (event %d, %s) is not signed by the chain key: it was forged or changed", cp.ID, cp.EventID, cp.At.Format(time.RFC3339))}
			return rep, nil
		}
	}
	// Pins are what the chain must contain: checkpoints, the key's start,
	// and the head the caller gave.
	type pin struct {
		head patchpanda.AuditHead
		what string
	}
	var pins []pin
	if start.ID > 0 {
		pins = append(pins, pin{start, "the chain key's start"})
	}
	for _, cp := range cps {
		pins = append(pins, pin{patchpanda.AuditHead{ID: cp.EventID, Hash: cp.Hash}, fmt.Sprintf("checkpoint %d (%s, %s)", cp.ID, cp.Reason, cp.At.Format(time.RFC3339))})
	}
	if expect != nil {
		pins = append(pins, pin{*expect, "the head you gave"})
	}
	slices.SortStableFunc(pins, func(a, b pin) int { return cmp.Compare(a.head.ID, b.head.ID) })

	var prev patchpanda.AuditHead // the last good event
	prev.Hash = Genesis
	next := 0 // the next pin to meet
	fail := func(kind string, id int64, format string, args ...any) (patchpanda.AuditReport, error) {
		rep.Problem = &patchpanda.AuditProblem{Kind: kind, EventID: id, Message: fmt.Sprintf(format, args...)}
		return rep, nil
	}
	for after := int64(0); ; {
		page, err := v.Log.AuditEvents(ctx, patchpanda.AuditFilter{AfterID: after, Limit: pageSize})
		if err != nil {
			return rep, err
		}
		for _, ev := range page {
			keyed := v.Chain.Keyed() && ev.ID > start.ID
			if ev.ID != prev.ID+1 && (keyed || ev.PrevHash != prev.Hash) {
				// Before the key, ids may skip (a PostgreSQL sequence
				// does on rollback) as long as the hashes link.
				return fail(patchpanda.AuditGap, prev.ID+1, "%s missing: the chain goes from event %d to event %d", span(prev.ID+1, ev.ID-1), prev.ID, ev.ID)
			}
			if next < len(pins) && pins[next].head.ID < ev.ID {
				p := pins[next]
				return fail(patchpanda.AuditGap, p.head.ID, "event %d, vouched for by %s, is missing", p.head.ID, p.what)
			}
			if ev.PrevHash != prev.Hash {
				return fail(patchpanda.AuditUnlinked, ev.ID, "event %d does not follow event %d: its previous hash %.12s… is not %.12s… (an event before it was changed or replaced)", ev.ID, prev.ID, ev.PrevHash, prev.Hash)
			}
			if want := v.Chain.Seal(prev.Hash, ev); !equal(ev.Hash, want) {
				how := "its hash does not match its content: it was changed"
				if keyed {
					how = "its MAC does not match its id and content: it was changed, renumbered, or written without the chain key"
				}
				return fail(patchpanda.AuditChanged, ev.ID, "event %d: %s", ev.ID, how)
			}
			for next < len(pins) && pins[next].head.ID == ev.ID {
				if p := pins[next]; p.head.Hash != ev.Hash {
					return fail(patchpanda.AuditRewritten, ev.ID, "event %d is not the event %s vouches for (hash %.12s…, want %.12s…): the chain was cut and written again from here", ev.ID, p.what, ev.Hash, p.head.Hash)
				}
				next++
			}
			prev = patchpanda.AuditHead{ID: ev.ID, Hash: ev.Hash}
			rep.Events++
			rep.Head = &patchpanda.AuditHead{ID: ev.ID, Hash: ev.Hash}
		}
		if len(page) < pageSize {
			break
		}
		after = page[len(page)-1].ID
	}
	if next < len(pins) {
		last := pins[len(pins)-1]
		return fail(patchpanda.AuditTruncated, prev.ID+1, "the chain ends at event %d, but %s vouches for event %d: %s gone from the end", prev.ID, last.what, last.head.ID, span(prev.ID+1, last.head.ID))
	}
	rep.Verified = true
	return rep, nil
}

func (v *Verifier) checkpoints(ctx context.Context) ([]patchpanda.AuditCheckpoint, error) {
	var all []patchpanda.AuditCheckpoint
	for after := int64(0); ; {
		page, err := v.Log.AuditCheckpoints(ctx, after, pageSize)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < pageSize {
			return all, nil
		}
		after = page[len(page)-1].ID
	}
}

// span names the events from a to b: "event 7 is", "events 7–9 are".
func span(a, b int64) string {
	if a == b {
		return fmt.Sprintf("event %d is", a)
	}
	return fmt.Sprintf("events %d–%d are", a, b)
}
