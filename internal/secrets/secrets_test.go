package secrets

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

const plaintext = "sk-test-PLAINTEXT-never-shown-1234"

func TestLocalKeyFileIsCreatedOnFirstUseAndReused(t *testing.T) {
	ctx := context.Background()
	path := DefaultKeyPath(filepath.Join(t.TempDir(), "patchpanda.db"))
	k, err := Open(ctx, "", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("key file exists before first use: %v", err)
	}
	ct, err := k.Encrypt(ctx, []byte(plaintext))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(ct, []byte(plaintext)) {
		t.Fatal("ciphertext contains the plaintext")
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() != KeySize || st.Mode().Perm() != 0o600 {
		t.Errorf("key file: %d bytes, mode %v; want %d bytes, 0600", st.Size(), st.Mode().Perm(), KeySize)
	}
	k.Close()

	// A second relay on the same database reads the same key.
	k2, err := Open(ctx, "", path)
	if err != nil {
		t.Fatal(err)
	}
	defer k2.Close()
	pt, err := k2.Decrypt(ctx, ct)
	if err != nil || string(pt) != plaintext {
		t.Fatalf("Decrypt = %q, %v", pt, err)
	}
	if got := k2.Describe(); got != "local key file "+path {
		t.Errorf("Describe = %q", got)
	}
}

func TestConcurrentFirstUsesAgreeOnOneKey(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "x.db.key")
	const n = 8
	cts := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := Open(ctx, "", path)
			if err != nil {
				t.Error(err)
				return
			}
			defer k.Close()
			if cts[i], err = k.Encrypt(ctx, []byte(plaintext)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	k, err := Open(ctx, "", path)
	if err != nil {
		t.Fatal(err)
	}
	for i, ct := range cts {
		if pt, err := k.Decrypt(ctx, ct); err != nil || string(pt) != plaintext {
			t.Errorf("ciphertext %d does not open with the file's key: %v", i, err)
		}
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".keytmp-*"))
	if len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

func TestBase64KeyKeeper(t *testing.T) {
	ctx := context.Background()
	raw := bytes.Repeat([]byte{0xfb}, KeySize) // encodes differently in URL and standard base64
	for _, enc := range []*base64.Encoding{base64.URLEncoding, base64.StdEncoding} {
		k, err := Open(ctx, "base64key://"+enc.EncodeToString(raw), "ignored-when-a-url-is-set")
		if err != nil {
			t.Fatal(err)
		}
		ct, err := k.Encrypt(ctx, []byte(plaintext))
		if err != nil {
			t.Fatal(err)
		}
		pt, err := k.Decrypt(ctx, ct)
		if err != nil || string(pt) != plaintext {
			t.Fatalf("round trip = %q, %v", pt, err)
		}
		if strings.Contains(k.Describe(), enc.EncodeToString(raw)) {
			t.Errorf("Describe shows the key: %q", k.Describe())
		}
	}
}

func TestOpenRejectsWithoutEchoingKeys(t *testing.T) {
	short := base64.URLEncoding.EncodeToString([]byte("sixteen byte key"))
	tests := []struct{ name, url, want string }{
		{"a key of the wrong size", "base64key://" + short, "decodes to 16 bytes"},
		{"a key that is not base64", "base64key://not*base64*secretmaterial", "not base64"},
		{"no key at all", "base64key://", "needs a key"},
		{"a padded password", "stringkey://hunter2hunter2", "key derivation"},
		{"an unknown scheme", "vault2://x", `scheme "vault2" is not supported`},
		{"not a URL", "hunter2hunter2", "is not a URL"},
		{"a query on base64key", "base64key://" + short + "?x=1", "takes only a key"},
	}
	if !kmsCompiled {
		tests = append(tests, struct{ name, url, want string }{"a KMS without -tags cloud", "awskms://alias/pp?region=us-east-1", "build it with -tags cloud"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(context.Background(), tt.url, "")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open(%q) = %v, want error containing %q", tt.url, err, tt.want)
			}
			if patchpanda.ErrorCode(err) != patchpanda.EINVALID {
				t.Errorf("code = %s, want invalid", patchpanda.ErrorCode(err))
			}
			for _, secret := range []string{short, "hunter2hunter2", "secretmaterial"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error echoes key material: %v", err)
				}
			}
		})
	}
}

func TestNoKeeperRefusesWithAClearError(t *testing.T) {
	ctx := context.Background()
	k, err := Open(ctx, "", DefaultKeyPath("")) // PostgreSQL: no default
	if err != nil {
		t.Fatal(err)
	}
	if k.Configured() {
		t.Error("Configured = true without a keeper")
	}
	for name, op := range map[string]func() error{
		"encrypt": func() error { _, err := k.Encrypt(ctx, []byte(plaintext)); return err },
		"decrypt": func() error { _, err := k.Decrypt(ctx, []byte("x")); return err },
	} {
		err := op()
		if patchpanda.ErrorCode(err) != patchpanda.EINVALID || !strings.Contains(patchpanda.ErrorMessage(err), "PATCHPANDA_SECRETS_KEEPER") {
			t.Errorf("%s = %v, want an invalid error naming PATCHPANDA_SECRETS_KEEPER", name, err)
		}
	}
}

func TestDecryptFailuresNeverShowThePlaintext(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a, _ := Open(ctx, "", filepath.Join(dir, "a.key"))
	b, _ := Open(ctx, "", filepath.Join(dir, "b.key"))
	ct, err := a.Encrypt(ctx, []byte(plaintext))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Encrypt(ctx, []byte("make b's key")); err != nil {
		t.Fatal(err)
	}
	_, err = b.Decrypt(ctx, ct)
	if err == nil || !strings.Contains(err.Error(), "was the key") {
		t.Fatalf("decrypt with another key = %v", err)
	}
	if strings.Contains(err.Error(), plaintext) {
		t.Fatal("error shows the plaintext")
	}
	// Decrypting before any key exists does not make one up.
	c, _ := Open(ctx, "", filepath.Join(dir, "c.key"))
	if _, err := c.Decrypt(ctx, ct); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("decrypt without a key file = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "c.key")); !os.IsNotExist(err) {
		t.Error("Decrypt created a key file")
	}
}

func TestOpenRejectsADamagedKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db.key")
	if err := os.WriteFile(path, []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), "", path)
	if err == nil || !strings.Contains(err.Error(), "has 5 bytes, want 32") {
		t.Fatalf("Open = %v", err)
	}
}

func TestDefaultKeyPath(t *testing.T) {
	for in, want := range map[string]string{"": "", ":memory:": "", "/var/lib/pp/patchpanda.db": "/var/lib/pp/patchpanda.db.key"} {
		if got := DefaultKeyPath(in); got != want {
			t.Errorf("DefaultKeyPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClosedKeeperRefuses(t *testing.T) {
	ctx := context.Background()
	k, _ := Open(ctx, "base64key://"+base64.URLEncoding.EncodeToString(make([]byte, KeySize)), "")
	if err := k.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Encrypt(ctx, []byte(plaintext)); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("Encrypt after Close = %v", err)
	}
}
