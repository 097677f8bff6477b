package store_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/patchpanda/patchpanda/internal/coverage"
	"github.com/patchpanda/patchpanda/internal/store"
)

func TestLineDataRoundTrips(t *testing.T) {
	tests := []struct {
		name  string
		lines []coverage.Line
	}{
		{"no lines", nil},
		{"sparse lines with branches", []coverage.Line{{Number: 1, Hits: 3}, {Number: 900, Hits: 0, BranchesFound: 2, BranchesHit: 1}, {Number: 901, Hits: 1 << 40}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := store.DecodeLines(store.EncodeLines(tt.lines))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.lines, got); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCorruptLineDataIsAnError(t *testing.T) {
	for name, b := range map[string][]byte{"empty": nil, "unknown version": {9}, "cut short": {1, 2}, "overlong varint": {1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}} {
		if _, err := store.DecodeLines(b); err == nil {
			t.Errorf("%s: DecodeLines(%v) succeeded", name, b)
		}
	}
}
