// Package audit seals audit events into a chain and verifies it.
//
// Each event carries the seal of its predecessor (PrevHash) and its own
// (Hash). A keyed Chain seals with HMAC-SHA256 under a key kept by the
// secrets keeper, over the event's id and content, so someone who can
// write to the database but cannot use the keeper can neither edit an
// event, nor renumber events to close a gap, nor recompute the chain after
// deleting one. Deleting the newest events leaves a valid but shorter
// chain; signed checkpoints of the head, kept in their own table and
// written to the relay's log, catch that (see Checkpointer and Verify).
//
// Events written before the chain had a key are sealed with plain SHA-256
// (Hash); the key's record pins the last of them by id and hash, so they
// too cannot be changed afterwards without Verify saying so.
package audit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// Genesis is the PrevHash of the first event in a chain.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// Hash returns the hex SHA-256 that seals ev after prev in an unkeyed
// chain. It covers every field but ID and Hash, in a fixed encoding, so the
// same event hashes the same on every database.
func Hash(prev string, ev patchpanda.AuditEvent) string {
	sum := sha256.Sum256(canonical(nil, prev, ev))
	return hex.EncodeToString(sum[:])
}

func canonical(prefix []any, prev string, ev patchpanda.AuditEvent) []byte {
	data := ev.Data
	if len(data) == 0 {
		data = json.RawMessage("{}")
	}
	fields := append(prefix, prev,
		ev.At.UTC().Format(time.RFC3339Nano),
		ev.Actor, ev.Action, ev.Subject, ev.Reason,
		string(data))
	b, _ := json.Marshal(fields) // strings and numbers only: cannot fail
	return b
}

// Verify checks that events of an unkeyed chain, in id order from the
// event after prev, link up. It returns the last hash, or an error naming
// the first event that does not link. Use Verifier for a relay's chain.
func Verify(events []patchpanda.AuditEvent, prev string) (string, error) {
	for _, ev := range events {
		if ev.PrevHash != prev {
			return prev, fmt.Errorf("audit: event %d: previous hash %.12s… does not match the chain's %.12s… (an event before it was removed or changed)", ev.ID, ev.PrevHash, prev)
		}
		if want := Hash(prev, ev); ev.Hash != want {
			return prev, fmt.Errorf("audit: event %d: hash does not match its content (the event was changed)", ev.ID)
		}
		prev = ev.Hash
	}
	return prev, nil
}

// KeySize is the size in bytes of a chain key.
const KeySize = 32

// Chain seals events and checkpoints. A nil *Chain is the unkeyed chain:
// events are sealed with Hash and checkpoints are not signed.
type Chain struct {
	key []byte
	// start is the last event sealed before the chain had its key
	// (id 0 for a chain keyed from its first event).
	start patchpanda.AuditHead
}

// NewChain returns a chain keyed with key (KeySize bytes) whose keyed
// events follow start. It returns an error for a key of the wrong size.
func NewChain(key []byte, start patchpanda.AuditHead) (*Chain, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("audit: chain key has %d bytes, want %d", len(key), KeySize)
	}
	return &Chain{key: append([]byte(nil), key...), start: start}, nil
}

// Keyed reports whether c seals with a key.
func (c *Chain) Keyed() bool { return c != nil }

// Start returns the last event sealed before the chain had its key; the
// zero head for the unkeyed chain or a chain keyed from the start.
func (c *Chain) Start() patchpanda.AuditHead {
	if c == nil {
		return patchpanda.AuditHead{}
	}
	return c.start
}

// Seal returns the Hash of ev (whose ID is set) following prev: an
// HMAC-SHA256 over the id and content for a keyed chain, Hash otherwise.
func (c *Chain) Seal(prev string, ev patchpanda.AuditEvent) string {
	if c == nil || ev.ID <= c.start.ID {
		return Hash(prev, ev)
	}
	return c.mac(canonical([]any{"patchpanda audit event v2", strconv.FormatInt(ev.ID, 10)}, prev, ev))
}

// SignCheckpoint returns the MAC of cp's event id, hash, reason and time;
// "" for the unkeyed chain.
func (c *Chain) SignCheckpoint(cp patchpanda.AuditCheckpoint) string {
	if c == nil {
		return ""
	}
	b, _ := json.Marshal([]any{"patchpanda audit checkpoint v1", strconv.FormatInt(cp.EventID, 10), cp.Hash, cp.Reason, cp.At.UTC().Format(time.RFC3339Nano)})
	return c.mac(b)
}

// signStart returns the MAC that binds the key to the chain's start.
func (c *Chain) signStart() string {
	b, _ := json.Marshal([]any{"patchpanda audit key v1", strconv.FormatInt(c.start.ID, 10), c.start.Hash})
	return c.mac(b)
}

func (c *Chain) mac(b []byte) string {
	m := hmac.New(sha256.New, c.key)
	m.Write(b)
	return hex.EncodeToString(m.Sum(nil))
}

// equal compares two hex MACs in constant time, so a caller probing
// checkpoints learns nothing from timing.
func equal(a, b string) bool { return hmac.Equal([]byte(a), []byte(b)) }
