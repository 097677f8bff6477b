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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := cli.Main(ctx, os.Args, iostreams.System())
	stop()
	os.Exit(code)
}
