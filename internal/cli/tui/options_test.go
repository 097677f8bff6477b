package tui

import (
	"testing"

	"github.com/patchpanda/patchpanda/internal/cli/factory/factorytest"
)

func TestTakesNoFlagsAndLeavesTheTerminalCheckToItsRun(t *testing.T) {
	f := factorytest.New(t)
	opts, err := factorytest.Parse(t, f, newTUI)
	if err != nil {
		t.Fatal(err)
	}
	if opts.IO != f.IO || opts.Client == nil {
		t.Errorf("options %+v, want the factory's streams and a client getter", opts)
	}
	if _, err := factorytest.Parse(t, f, newTUI, "--jobs"); err == nil {
		t.Error("an unknown flag was accepted")
	}
}
