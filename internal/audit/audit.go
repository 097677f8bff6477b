// Package audit seals audit events into a hash chain and verifies it.
package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// Genesis is the PrevHash of the first event in a chain.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// Hash returns the hex SHA-256 that seals ev after prev. It covers every
// field but ID and Hash, in a fixed encoding, so the same event hashes the
// same on every database.
func Hash(prev string, ev patchpanda.AuditEvent) string {
	data := ev.Data
	if len(data) == 0 {
		data = json.RawMessage("{}")
	}
	canonical, _ := json.Marshal([]any{
		prev,
		ev.At.UTC().Format(time.RFC3339Nano),
		ev.Actor, ev.Action, ev.Subject, ev.Reason,
		string(data),
	})
	sum := sha256.Sum256(canonical)
	return hex.EncodeToString(sum[:])
}

// Verify checks that events, in id order from the start of the chain, link
// up. It returns an error naming the first event that does not.
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
