package spelling

import "testing"

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "abc", 3},
		{"abc", "", 3},
		{"generate", "generate", 0},
		{"genrate", "generate", 1},   // a deletion
		{"gennerate", "generate", 1}, // an insertion
		{"generete", "generate", 1},  // a substitution
		{"gneerate", "generate", 1},  // a swap of neighbours
		{"ca", "abc", 3},             // no part edited twice
		{"jbos", "jobs", 1},
		{"kitten", "sitting", 3},
		{"ümlaut", "umlaut", 1}, // runes, not bytes
		{"PATCHPANDA_DATABSE_URL", "PATCHPANDA_DATABASE_URL", 1},
	}
	for _, tt := range tests {
		if got := Distance(tt.a, tt.b); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := Distance(tt.b, tt.a); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d (symmetry)", tt.b, tt.a, got, tt.want)
		}
	}
}
