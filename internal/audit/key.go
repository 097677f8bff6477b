package audit

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"time"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// KeyRecord is the chain key as the database keeps it: wrapped by the
// secrets keeper, with the event the keyed chain starts after, and a MAC
// over that start made with the key itself.
type KeyRecord struct {
	Ciphertext []byte
	Start      patchpanda.AuditHead
	MAC        string
	CreatedAt  time.Time
}

// KeyStore keeps the one chain key record.
type KeyStore interface {
	// AuditKey returns the record, or an ENOTFOUND error when there is none.
	AuditKey(ctx context.Context) (KeyRecord, error)
	// CreateAuditKey stores ciphertext with the chain's current head as its
	// start and sign(start) as its MAC, in one transaction with reading the
	// head. When another relay stored a record first, it returns that one.
	CreateAuditKey(ctx context.Context, ciphertext []byte, sign func(start patchpanda.AuditHead) string) (KeyRecord, error)
}

// Keeper wraps and unwraps the chain key (secrets.Keeper).
type Keeper interface {
	Configured() bool
	Encrypt(ctx context.Context, plaintext []byte) ([]byte, error)
	Decrypt(ctx context.Context, ciphertext []byte) ([]byte, error)
}

// OpenChain returns the database's keyed chain, making its key the first
// time: 32 random bytes wrapped by keeper, the current head pinned as the
// start. Without a configured keeper and without a key record it returns
// the unkeyed chain (nil) and logs a warning. It returns an EINVALID error
// when the database has a key record but the keeper is missing or cannot
// unwrap it, or when the record's start was changed.
func OpenChain(ctx context.Context, st KeyStore, keeper Keeper, logger *slog.Logger) (*Chain, error) {
	rec, err := st.AuditKey(ctx)
	switch {
	case patchpanda.ErrorCode(err) == patchpanda.ENOTFOUND:
		if !keeper.Configured() {
			logger.Warn("audit chain is not keyed: anyone who can write to the database can rewrite it undetected; set PATCHPANDA_SECRETS_KEEPER")
			return nil, nil
		}
		key := make([]byte, KeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("audit: new chain key: %w", err)
		}
		ct, err := keeper.Encrypt(ctx, key)
		if err != nil {
			return nil, fmt.Errorf("audit: wrap the chain key: %w", err)
		}
		rec, err = st.CreateAuditKey(ctx, ct, func(start patchpanda.AuditHead) string {
			c, _ := NewChain(key, start)
			return c.signStart()
		})
		if err != nil {
			return nil, err
		}
		if rec.Start.ID > 0 {
			logger.Info("audit chain keyed: earlier events stay sealed with plain SHA-256, pinned by the last of them",
				"pinned_event_id", rec.Start.ID, "pinned_hash", rec.Start.Hash)
		}
	case err != nil:
		return nil, err
	}
	if !keeper.Configured() {
		return nil, patchpanda.Errorf(patchpanda.EINVALID, "the audit chain is keyed by the secrets keeper, but none is configured: set PATCHPANDA_SECRETS_KEEPER to the keeper used before")
	}
	key, err := keeper.Decrypt(ctx, rec.Ciphertext)
	if err != nil {
		return nil, patchpanda.Errorf(patchpanda.EINVALID, "the audit chain key does not unwrap with the configured secrets keeper (was PATCHPANDA_SECRETS_KEEPER changed?): %v", err)
	}
	c, err := NewChain(key, rec.Start)
	if err != nil {
		return nil, patchpanda.Errorf(patchpanda.EINVALID, "the stored audit chain key is not usable: %v", err)
	}
	if !equal(rec.MAC, c.signStart()) {
		return nil, patchpanda.Errorf(patchpanda.EINVALID, "the audit chain key's record was changed: its start (event %d) does not match its signature", rec.Start.ID)
	}
	return c, nil
}
