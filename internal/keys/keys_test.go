package keys

import (
	"strings"
	"testing"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

func TestNewKeysAreWellFormedAndDistinct(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		k, err := New()
		if err != nil {
			t.Fatal(err)
		}
		if err := Check(k); err != nil {
			t.Fatalf("Check(%q) = %v", k, err)
		}
		if seen[k] {
			t.Fatalf("duplicate key %q", k)
		}
		seen[k] = true
	}
}

func TestCheckRejects(t *testing.T) {
	good, err := New()
	if err != nil {
		t.Fatal(err)
	}
	flipped := []byte(good)
	if flipped[10] == 'a' {
		flipped[10] = 'b'
	} else {
		flipped[10] = 'a'
	}
	tests := []struct {
		name, key, want string
	}{
		{"wrong prefix", "ghp_" + good[4:], "must start with"},
		{"truncated", good[:len(good)-1], "characters"},
		{"mistyped character", string(flipped), "checksum"},
		{"invalid character", good[:10] + "-" + good[11:], "invalid character"},
		{"empty", "", "must start with"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.key)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Check = %v, want error containing %q", err, tt.want)
			}
			if patchpanda.ErrorCode(err) != patchpanda.EUNAUTHORIZED {
				t.Errorf("code = %s, want unauthorized", patchpanda.ErrorCode(err))
			}
			if tt.key != "" && strings.Contains(err.Error(), tt.key) {
				t.Errorf("error echoes the key")
			}
		})
	}
}

func TestHashAndDisplay(t *testing.T) {
	k, _ := New()
	if len(Hash(k)) != 32 {
		t.Fatal("hash is not 32 bytes")
	}
	if d := Display(k); !strings.HasPrefix(k, d) || len(d) != 10 {
		t.Fatalf("Display = %q", d)
	}
}
