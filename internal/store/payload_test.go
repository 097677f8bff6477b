package store

import (
	"bytes"
	"strings"
	"testing"
)

func TestPayloadsRoundTripCompressedWhenLarge(t *testing.T) {
	tests := []struct {
		name       string
		payload    []byte
		compressed bool
	}{
		{"a small payload is stored as it came", []byte(`{"action":"created"}`), false},
		{"a large payload is gzipped", []byte(`{"body":"` + strings.Repeat("retry after the reset ", 1000) + `"}`), true},
		{"an empty payload stays empty", nil, false},
	}
	// Twice over, so that the second round reads with pooled readers.
	for _, tt := range append(tests, tests...) {
		t.Run(tt.name, func(t *testing.T) {
			packed := packPayload(tt.payload)
			if got := len(packed) < len(tt.payload); got != tt.compressed {
				t.Errorf("stored %d bytes for %d: compressed = %v, want %v", len(packed), len(tt.payload), got, tt.compressed)
			}
			back, err := unpackPayload(packed)
			if err != nil || !bytes.Equal(back, tt.payload) {
				t.Errorf("round trip: %v, equal = %v", err, bytes.Equal(back, tt.payload))
			}
		})
	}
}

func TestACorruptStoredPayloadIsAnError(t *testing.T) {
	if _, err := unpackPayload([]byte{0x1f, 0x8b, 0, 1, 2}); err == nil {
		t.Error("a truncated gzip payload read back without an error")
	}
}

func TestAStoredPayloadWithALyingSizeStillReadsBack(t *testing.T) {
	payload := []byte(`{"body":"` + strings.Repeat("retry after the reset ", 1000) + `"}`)
	packed := packPayload(payload)
	for _, size := range [][]byte{{0, 0, 0, 0}, {0xff, 0xff, 0xff, 0xff}} {
		lying := append(append([]byte(nil), packed[:len(packed)-4]...), size...)
		if _, err := unpackPayload(lying); err == nil {
			t.Errorf("a payload whose trailer says %x read back without an error", size)
		}
	}
}
