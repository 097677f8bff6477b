// Package secrets encrypts and decrypts the provider keys the relay stores,
// through a gocloud.dev secrets keeper. It is the only home of gocloud.dev.
//
// The keeper is chosen by PATCHPANDA_SECRETS_KEEPER:
//
//   - base64key://KEY — a 32-byte key, URL-safe or standard base64, in the
//     setting itself (NaCl secretbox, as gocloud.dev/secrets/localsecrets);
//   - awskms://…, gcpkms://…, hashivault://… — a key management service,
//     compiled in only with the build tag "cloud" because their SDKs add about
//     15 MB and a minute of build time to the relay (see docs/billing.md);
//   - unset — a local 32-byte key file beside a SQLite database, created
//     with mode 0600 the first time a secret is encrypted (the relay's
//     first start, which wraps the audit chain's key with it). With PostgreSQL
//     there is no default: several relays share the database but not a
//     file, so encrypting and decrypting fail with an EINVALID error asking
//     for PATCHPANDA_SECRETS_KEEPER.
package secrets

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	gsecrets "gocloud.dev/secrets"
	"gocloud.dev/secrets/localsecrets"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// KeySize is the size in bytes of a local key and of a base64key:// key.
const KeySize = 32

// kmsSchemes are the keeper schemes served by a key management service.
var kmsSchemes = []string{"awskms", "gcpkms", "hashivault"}

// Keeper encrypts and decrypts secrets. It is safe for concurrent use.
type Keeper struct {
	desc string
	// keyPath is the local key file, "" when the keeper is not local.
	keyPath string

	mu     sync.Mutex
	k      *gsecrets.Keeper // nil until a local key is loaded, or when unconfigured
	closed bool
}

// Open returns the keeper named by keeperURL, or, when keeperURL is empty,
// a keeper over the local key file at defaultKeyPath (see DefaultKeyPath),
// or, when both are empty, a keeper that refuses every operation with an
// EINVALID error asking for PATCHPANDA_SECRETS_KEEPER. It returns an
// EINVALID error, which never contains key material, for a URL it cannot
// use and for a local key file that exists but is not a 32-byte key.
func Open(ctx context.Context, keeperURL, defaultKeyPath string) (*Keeper, error) {
	if keeperURL == "" {
		if defaultKeyPath == "" {
			return &Keeper{desc: "none"}, nil
		}
		kp := &Keeper{desc: "local key file " + defaultKeyPath, keyPath: defaultKeyPath}
		key, err := readKeyFile(defaultKeyPath)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			// Created on first use: a relay that never stores a provider
			// key leaves no key file behind.
		case err != nil:
			return nil, err
		default:
			kp.k = localsecrets.NewKeeper(key)
		}
		return kp, nil
	}
	u, err := url.Parse(keeperURL)
	if err != nil || u.Scheme == "" {
		// The text may hold a key: do not echo it.
		return nil, patchpanda.Errorf(patchpanda.EINVALID, "PATCHPANDA_SECRETS_KEEPER is not a URL like base64key://KEY or awskms://KEY_ID")
	}
	switch u.Scheme {
	case localsecrets.Scheme:
		// The key is everything after the scheme, so that standard base64
		// (with "/") works as well as the URL-safe kind.
		raw := strings.TrimPrefix(keeperURL, localsecrets.Scheme+"://")
		if strings.ContainsAny(raw, "?#") {
			return nil, patchpanda.Errorf(patchpanda.EINVALID, "PATCHPANDA_SECRETS_KEEPER: base64key:// takes only a key, base64key://KEY")
		}
		if raw == "" {
			// gocloud.dev would make up a random key, and every secret
			// stored with it would be lost at the next start.
			return nil, patchpanda.Errorf(patchpanda.EINVALID, "PATCHPANDA_SECRETS_KEEPER: base64key:// needs a key: base64key://$(head -c 32 /dev/urandom | base64 | tr '+/' '-_')")
		}
		key, err := decodeKey(raw)
		if err != nil {
			return nil, err
		}
		return &Keeper{desc: "base64key (a key in PATCHPANDA_SECRETS_KEEPER)", k: localsecrets.NewKeeper(key)}, nil
	case "stringkey":
		return nil, patchpanda.Errorf(patchpanda.EINVALID, "PATCHPANDA_SECRETS_KEEPER: stringkey:// pads a password into a key without a key derivation; use base64key:// with 32 random bytes instead")
	}
	if !isKMS(u.Scheme) {
		return nil, patchpanda.Errorf(patchpanda.EINVALID, "PATCHPANDA_SECRETS_KEEPER: scheme %q is not supported (want base64key, awskms, gcpkms or hashivault)", u.Scheme)
	}
	if !kmsCompiled {
		return nil, patchpanda.Errorf(patchpanda.EINVALID, "PATCHPANDA_SECRETS_KEEPER: %s:// is not compiled into this relay; build it with -tags cloud (see docs/billing.md)", u.Scheme)
	}
	k, err := gsecrets.OpenKeeper(ctx, keeperURL)
	if err != nil {
		return nil, patchpanda.Errorf(patchpanda.EINVALID, "PATCHPANDA_SECRETS_KEEPER: cannot open the %s keeper: %v", u.Scheme, scrub(err, u))
	}
	return &Keeper{desc: redacted(u), k: k}, nil
}

// DefaultKeyPath returns where the local key of a SQLite database at dbPath
// lives: dbPath + ".key". It returns "" for PostgreSQL (dbPath "") and for
// an in-memory database, which have no default.
func DefaultKeyPath(dbPath string) string {
	if dbPath == "" || dbPath == ":memory:" {
		return ""
	}
	return dbPath + ".key"
}

// Describe names the keeper for logs, without key material: "none",
// "local key file PATH", "base64key (…)" or the KMS URL.
func (k *Keeper) Describe() string { return k.desc }

// Configured reports whether the keeper can encrypt at all.
func (k *Keeper) Configured() bool { return k.desc != "none" }

// Encrypt returns plaintext sealed by the keeper. It returns an EINVALID
// error when no keeper is configured, and an error (never containing the
// plaintext) when the keeper fails.
func (k *Keeper) Encrypt(ctx context.Context, plaintext []byte) ([]byte, error) {
	gk, err := k.keeper(true)
	if err != nil {
		return nil, err
	}
	ct, err := gk.Encrypt(ctx, plaintext)
	if err != nil {
		return nil, fmt.Errorf("secrets: encrypt with %s: %w", k.desc, err)
	}
	return ct, nil
}

// Decrypt returns the plaintext sealed in ciphertext. It returns an
// EINVALID error when no keeper is configured, and an error saying the key
// may have changed when the ciphertext does not open.
func (k *Keeper) Decrypt(ctx context.Context, ciphertext []byte) ([]byte, error) {
	gk, err := k.keeper(false)
	if err != nil {
		return nil, err
	}
	pt, err := gk.Decrypt(ctx, ciphertext)
	if err != nil {
		return nil, fmt.Errorf("secrets: decrypt with %s (was the key or PATCHPANDA_SECRETS_KEEPER changed?): %w", k.desc, err)
	}
	return pt, nil
}

// Close releases the keeper's resources. It returns the keeper's error.
func (k *Keeper) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.closed = true
	if k.k == nil {
		return nil
	}
	err := k.k.Close()
	k.k = nil
	if err != nil {
		return fmt.Errorf("secrets: close: %w", err)
	}
	return nil
}

// keeper returns the underlying keeper, creating the local key file first
// when create is set and it does not exist yet.
func (k *Keeper) keeper(create bool) (*gsecrets.Keeper, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case k.closed:
		return nil, errors.New("secrets: keeper is closed")
	case k.k != nil:
		return k.k, nil
	case k.keyPath == "":
		return nil, patchpanda.Errorf(patchpanda.EINVALID, "no secrets keeper is configured, so provider keys cannot be stored or read: set PATCHPANDA_SECRETS_KEEPER (base64key://, awskms://, gcpkms:// or hashivault://); see docs/billing.md")
	}
	key, err := readKeyFile(k.keyPath)
	if errors.Is(err, fs.ErrNotExist) {
		if !create {
			return nil, fmt.Errorf("secrets: the local key file %s does not exist, so nothing encrypted with it can be decrypted", k.keyPath)
		}
		key, err = createKeyFile(k.keyPath)
	}
	if err != nil {
		return nil, err
	}
	k.k = localsecrets.NewKeeper(key)
	return k.k, nil
}

func readKeyFile(path string) ([KeySize]byte, error) {
	var key [KeySize]byte
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return key, err
		}
		return key, fmt.Errorf("secrets: read local key file: %w", err)
	}
	if len(b) != KeySize {
		return key, patchpanda.Errorf(patchpanda.EINVALID, "local secrets key file %s has %d bytes, want %d: restore it from a backup (secrets stored with another key cannot be decrypted)", path, len(b), KeySize)
	}
	copy(key[:], b)
	return key, nil
}

// createKeyFile writes a new random key to path, or returns the key another
// process wrote there first: the key is written to a temporary file and
// hard-linked into place, which fails if path exists.
func createKeyFile(path string) ([KeySize]byte, error) {
	var key [KeySize]byte
	if _, err := rand.Read(key[:]); err != nil {
		return key, fmt.Errorf("secrets: new key: %w", err)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".keytmp-*")
	if err != nil {
		return key, fmt.Errorf("secrets: create local key file in %s: %w", dir, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return key, fmt.Errorf("secrets: create local key file: %w", err)
	}
	if _, err := tmp.Write(key[:]); err != nil {
		tmp.Close()
		return key, fmt.Errorf("secrets: write local key file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return key, fmt.Errorf("secrets: write local key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return key, fmt.Errorf("secrets: write local key file: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readKeyFile(path)
		}
		return key, fmt.Errorf("secrets: create local key file %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // make the new name durable
		d.Close()
	}
	return key, nil
}

func decodeKey(s string) ([KeySize]byte, error) {
	var key [KeySize]byte
	for _, enc := range []*base64.Encoding{base64.URLEncoding, base64.StdEncoding, base64.RawURLEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != KeySize {
				return key, patchpanda.Errorf(patchpanda.EINVALID, "PATCHPANDA_SECRETS_KEEPER: the base64key:// key decodes to %d bytes, want %d", len(b), KeySize)
			}
			copy(key[:], b)
			return key, nil
		}
	}
	return key, patchpanda.Errorf(patchpanda.EINVALID, "PATCHPANDA_SECRETS_KEEPER: the base64key:// key is not base64")
}

func isKMS(scheme string) bool {
	for _, s := range kmsSchemes {
		if s == scheme {
			return true
		}
	}
	return false
}

// redacted returns u without credentials or query, for logs.
func redacted(u *url.URL) string {
	c := *u
	c.User = nil
	c.RawQuery = ""
	return c.String()
}

// scrub removes the URL's credentials from a driver's error text.
func scrub(err error, u *url.URL) string {
	msg := err.Error()
	if u.User != nil {
		msg = strings.ReplaceAll(msg, u.User.String(), "xxxxx")
	}
	return msg
}
