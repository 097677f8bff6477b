package iostreams_test

import (
	"bytes"
	"testing"

	"github.com/patchpanda/patchpanda/internal/iostreams"
)

func TestSanitize(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"keeps plain text, tabs and newlines", "a\tb\nc ünï", "a\tb\nc ünï"},
		{"shows ESC sequences in caret notation", "x\x1b[2Jy", "x^[[2Jy"},
		{"shows CR, BEL, BS and DEL", "a\rb\x07c\bd\x7f", "a^Mb^Gc^Hd^?"},
		{"shows C1 controls as their 7-bit escapes", "a\u009b31m\u009d0;t", "a^[[31m^[]0;t"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := iostreams.Sanitize(tt.in); got != tt.want {
				t.Errorf("Sanitize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	if got := iostreams.SanitizeLine("a\tb\nc"); got != "a b c" {
		t.Errorf("SanitizeLine = %q", got)
	}
}

func TestSanitizerJoinsACharacterSplitAcrossWrites(t *testing.T) {
	var out bytes.Buffer
	w := iostreams.NewSanitizer(&out)
	in := []byte("é\u009b2J ok\x1b")
	for i := range in { // one byte at a time
		if _, err := w.Write(in[i : i+1]); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := out.String(), "é^[[2J ok^["; got != want {
		t.Errorf("wrote %q, want %q", got, want)
	}
}
