// Command relay is PatchPanda's GitHub App webhook target and REST API.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/patchpanda/patchpanda/internal/relay"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := relay.Main(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
