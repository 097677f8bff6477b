// Package authcmd is `ppctl auth login | status | logout`, and the file
// they keep: the relay's URL and an API key in the user's config
// directory, readable by the user alone, as gh keeps its hosts.
package authcmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Stored is what `ppctl auth login` keeps.
type Stored struct {
	Relay string `json:"relay"`
	// Token is an API key. Never print it.
	Token string `json:"token"`
}

// DirEnv overrides the directory the credentials are kept in.
const DirEnv = "PATCHPANDA_CONFIG_DIR"

// Dir returns where the credentials are kept: $PATCHPANDA_CONFIG_DIR, or
// patchpanda in the user's config directory (~/.config on Linux,
// ~/Library/Application Support on macOS, %AppData% on Windows). It
// returns an error when the user has no config directory.
func Dir(getenv func(string) string) (string, error) {
	if d := getenv(DirEnv); d != "" {
		return d, nil
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("auth: no config directory to keep credentials in (set %s): %w", DirEnv, err)
	}
	return filepath.Join(d, "patchpanda"), nil
}

func file(dir string) string { return filepath.Join(dir, "credentials.json") }

// Load returns the stored credentials, the zero Stored when there are
// none, and an error naming the file when it cannot be read or parsed.
func Load(dir string) (Stored, error) {
	var s Stored
	b, err := os.ReadFile(file(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("auth: read %s: %w", file(dir), err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("auth: %s is not valid JSON (remove it with ppctl auth logout): %w", file(dir), err)
	}
	return s, nil
}

// Save writes s to dir, creating it 0700 and the file 0600; the file is
// replaced whole, never left half-written. It returns an error naming the
// file.
func Save(dir string, s Stored) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("auth: create %s: %w", dir, err)
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("auth: encode credentials: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".credentials-*.json")
	if err != nil {
		return fmt.Errorf("auth: write %s: %w", file(dir), err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("auth: write %s: %w", file(dir), err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("auth: write %s: %w", file(dir), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("auth: write %s: %w", file(dir), err)
	}
	if err := os.Rename(tmp.Name(), file(dir)); err != nil {
		return fmt.Errorf("auth: write %s: %w", file(dir), err)
	}
	return nil
}

// Remove deletes the stored credentials; it reports whether there were
// any, and an error naming the file when it cannot be removed.
func Remove(dir string) (bool, error) {
	err := os.Remove(file(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("auth: remove %s: %w", file(dir), err)
	}
	return true, nil
}
