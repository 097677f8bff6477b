package iostreams

import (
	"strings"
	"testing"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

func TestReadSecretFromAPipe(t *testing.T) {
	tests := []struct {
		name, in, want, wantErr string
	}{
		{name: "trimmed", in: "  ppk_abc\n", want: "ppk_abc"},
		{name: "nothing", in: "\n", want: ""},
		{name: "exactly the budget", in: strings.Repeat("k", 16), want: strings.Repeat("k", 16)},
		{name: "over the budget", in: strings.Repeat("k", 17), wantErr: "standard input is over 16 bytes; pipe in the key alone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, in, _, errOut := Test()
			in.WriteString(tt.in)
			got, err := ios.ReadSecret("the key", "Paste: ", 16, false)
			if tt.wantErr != "" {
				if err == nil || !strings.HasSuffix(err.Error(), tt.wantErr) || patchpanda.ErrorCode(err) != patchpanda.EINVALID {
					t.Fatalf("error %v, want EINVALID %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
			if errOut.Len() != 0 {
				t.Errorf("prompted on a pipe: %q", errOut.String())
			}
		})
	}
}
