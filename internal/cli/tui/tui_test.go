package tui_test

import (
	"context"
	"strings"
	"testing"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	"github.com/patchpanda/patchpanda/internal/cli/tui"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/iostreams"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

func TestRefusesWithoutATerminal(t *testing.T) {
	tests := []struct {
		name          string
		inTTY, outTTY bool
	}{
		{"refuses when stdout is piped", true, false},
		{"refuses when stdin is piped", false, true},
		{"refuses when neither is a terminal", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			io, _, out, _ := iostreams.Test()
			io.InTTY, io.OutTTY = tt.inTTY, tt.outTTY
			called := false
			f := &factory.Factory{IO: io, Client: func(*cli.Command) (*httpapi.Client, error) {
				called = true
				return httpapi.NewClient("http://127.0.0.1:1", ""), nil
			}}
			err := tui.New(f).Run(context.Background(), []string{"tui"})
			if patchpanda.ErrorCode(err) != patchpanda.EINVALID || !strings.Contains(err.Error(), "needs a terminal") {
				t.Fatalf("err = %v, want EINVALID saying it needs a terminal", err)
			}
			if called || out.Len() != 0 {
				t.Errorf("it went on: client asked for %v, stdout %q", called, out)
			}
		})
	}
}
