package patchpanda

import (
	"strings"
	"testing"
)

func TestParseFullNameFollowsGitHubsRules(t *testing.T) {
	for _, tc := range []struct {
		in   string
		ok   bool
		want string // part of the error
	}{
		{"acme/widgets", true, ""},
		{"Acme/API", true, ""},
		{"octo-cat/.github", true, ""},
		{"mona_acme/repo_1.2-x", true, ""},
		{strings.Repeat("a", 39) + "/" + strings.Repeat("b", 100), true, ""},
		{"acme", false, "owner/name"},
		{"acme/", false, "owner/name"},
		{"/widgets", false, "owner/name"},
		{"acme/wid/gets", false, "owner/name"},
		{"acme/..", false, `not contain ".."`},
		{"acme/a..b", false, `".."`},
		{"acme/.", false, "the name must be"},
		{"acme/wid\x00gets", false, "the name must be"},
		{"acme/wid\ngets", false, "the name must be"},
		{"acme/wid\x1b[2Jgets", false, "the name must be"},
		{"acme/wid gets", false, "the name must be"},
		{"ac me/widgets", false, "the owner must be"},
		{"-acme/widgets", false, "the owner must be"},
		{"ac\tme/widgets", false, "the owner must be"},
		{strings.Repeat("a", 40) + "/b", false, "1 to 39"},
		{"a/" + strings.Repeat("b", 101), false, "1 to 100"},
		{"acme/wídgets", false, "the name must be"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			_, _, err := ParseFullName(tc.in)
			if tc.ok != (err == nil) || (err != nil && (ErrorCode(err) != EINVALID || !strings.Contains(err.Error(), tc.want))) {
				t.Errorf("ParseFullName(%q) = %v, want ok=%v containing %q", tc.in, err, tc.ok, tc.want)
			}
		})
	}
}

func TestRepositoryKeyIgnoresCase(t *testing.T) {
	if RepositoryKey("Acme/API") != RepositoryKey("acme/api") {
		t.Error("Acme/API and acme/api are different keys")
	}
}

func TestTextChecksNameTheFieldAndTheLimit(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"a short name passes", CheckName("name", "ci key", MaxNameLen), ""},
		{"a long name names its limit", CheckName("name", strings.Repeat("x", 900<<10), MaxNameLen), "name is 921600 bytes long; the limit is 100"},
		{"a newline in a name is refused", CheckName("name", "a\nb", MaxNameLen), "name has a control character at byte 1"},
		{"invalid UTF-8 is refused", CheckName("name", "\xff", MaxNameLen), "name is not valid UTF-8"},
		{"a message may have lines", CheckText("message", "line 1\nline 2\ttab", MaxMessageLen), ""},
		{"a message may not have NUL", CheckText("message", "a\x00", MaxMessageLen), "message has a NUL byte"},
		{"a long message names its limit", CheckText("message", strings.Repeat("x", MaxMessageLen+1), MaxMessageLen), "the limit is 4096"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.want == "" {
				if tc.err != nil {
					t.Fatal(tc.err)
				}
				return
			}
			if ErrorCode(tc.err) != EINVALID || !strings.Contains(tc.err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", tc.err, tc.want)
			}
		})
	}
}
