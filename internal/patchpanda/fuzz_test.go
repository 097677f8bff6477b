package patchpanda

import (
	"strings"
	"testing"
	"unicode"
)

// FuzzParseFullName checks that whatever ParseFullName accepts is safe to
// use as a path, a log field and a key: one slash, no "..", nothing but
// ASCII letters, digits and . - _, within GitHub's lengths.
func FuzzParseFullName(f *testing.F) {
	for _, s := range []string{"acme/widgets", "Acme/API", "a/..", "a/b/c", "a\x00/b", "-a/b", "mona_acme/.github", "a/b\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		owner, name, err := ParseFullName(s)
		if err != nil {
			if ErrorCode(err) != EINVALID {
				t.Fatalf("ParseFullName(%q): %v is not EINVALID", s, err)
			}
			return
		}
		if owner+"/"+name != s || strings.Count(s, "/") != 1 || strings.Contains(s, "..") {
			t.Fatalf("ParseFullName(%q) accepted %q / %q", s, owner, name)
		}
		if len(owner) > MaxOwnerLen || len(name) > MaxRepoNameLen {
			t.Fatalf("ParseFullName(%q) accepted an over-long part", s)
		}
		for _, r := range s {
			if r > unicode.MaxASCII || unicode.IsControl(r) || unicode.IsSpace(r) {
				t.Fatalf("ParseFullName(%q) accepted %q", s, r)
			}
		}
	})
}
