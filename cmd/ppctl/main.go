// Command ppctl is PatchPanda's command line; built as gh-patchpanda it is
// also the `gh patchpanda` extension.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/patchpanda/patchpanda/internal/cli"
	"github.com/patchpanda/patchpanda/internal/iostreams"
)

func main() {
	ctx, stop := context.Background(), context.CancelFunc(func() {})
	// The interrupt handler runs on a goroutine locked to a thread of its
	// own; starting them was a tenth of `ppctl version`, which has nothing
	// to interrupt.
	if !cli.Instant(os.Args) {
		ctx, stop = signal.NotifyContext(ctx, os.Interrupt)
	}
	code := cli.Main(ctx, os.Args, iostreams.System())
	stop()
	os.Exit(code)
}
