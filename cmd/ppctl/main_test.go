package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestMain lets the test binary be ppctl itself: run with
// PPCTL_TEST_MAIN=1 it is main, so the tests below start the real program
// without building a second binary.
func TestMain(m *testing.M) {
	if os.Getenv("PPCTL_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// terminalQuery matches what a program writes to ask the terminal
// something it must answer: colours (OSC 10/11/12 with "?"), the cursor
// position (CSI 6n), device attributes (CSI c, CSI > c), modes (DECRQM)
// and terminal version (CSI > q).
var terminalQuery = regexp.MustCompile(`\x1b\](?:1[0-2]);\?|\x1b\[\??6n|\x1b\[[>=]?0?c|\x1b\[\??[0-9;]*\$p|\x1b\[>0?q`)

// TestCommandsDoNotWaitOnTheTerminal runs ppctl on a pseudo-terminal that
// never answers anything, as `script`, hook runners and some proxied
// terminals are. A program that asks the terminal a question there waits
// for an answer that never comes (bubbletea v1 waited 5 s for the
// background colour). The test proves the absence of the wait by the
// absence of the question: the pty's output holds everything ppctl wrote
// to the terminal, and it must contain no query. The time bound is only a
// guard so that a regression fails instead of hanging; it is generous so
// that a slow machine never fails it.
func TestCommandsDoNotWaitOnTheTerminal(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no pseudo-terminals on Windows")
	}
	lcov := filepath.Join(t.TempDir(), "lcov.info")
	if err := os.WriteFile(lcov, []byte("SF:a.go\nDA:1,1\nDA:2,0\nLF:2\nLH:1\nend_of_record\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"version", []string{"version"}, "ppctl version"},
		{"coverage summary", []string{"coverage", "summary", lcov}, "50.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], tc.args...)
			cmd.Env = append(os.Environ(), "PPCTL_TEST_MAIN=1", "TERM=xterm-256color", "NO_COLOR=")
			// ppctl is the pty's only user: nothing ever writes to the
			// master, so any question asked of the terminal goes unanswered.
			tty, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: 100, Rows: 30})
			if err != nil {
				t.Fatalf("start on a pty: %v", err)
			}
			defer tty.Close()
			var out bytes.Buffer
			copied := make(chan struct{})
			go func() { _, _ = io.Copy(&out, tty); close(copied) }()
			waited := make(chan error, 1)
			go func() { waited <- cmd.Wait() }()
			start := time.Now()
			select {
			case err := <-waited:
				if err != nil {
					t.Fatalf("ppctl %v: %v", tc.args, err)
				}
			case <-time.After(10 * time.Second):
				cancel()
				<-waited
				t.Fatalf("ppctl %v still running after 10 s on a terminal that does not answer", tc.args)
			}
			elapsed := time.Since(start)
			// The output ends when the child's side of the pty closes (EIO).
			select {
			case <-copied:
			case <-time.After(10 * time.Second):
			}
			if q := terminalQuery.Find(out.Bytes()); q != nil {
				t.Errorf("ppctl %v asked the terminal %q, which waits for an answer; it wrote:\n%q", tc.args, q, out.String())
			}
			if !bytes.Contains(out.Bytes(), []byte(tc.want)) {
				t.Errorf("ppctl %v wrote %q, want it to contain %q", tc.args, out.String(), tc.want)
			}
			t.Logf("ppctl %v finished in %v", tc.args, elapsed)
		})
	}
}

// BenchmarkVersion measures how long `ppctl version` takes from exec to
// exit, start-up included (the target is under 20 ms; see
// docs/benchmarks.md). It starts the test binary as ppctl, whose start-up
// also initialises the testing package: a little more than the real one.
func BenchmarkVersion(b *testing.B) {
	for b.Loop() {
		cmd := exec.Command(os.Args[0], "version")
		cmd.Env = append(os.Environ(), "PPCTL_TEST_MAIN=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("ppctl version: %v: %s", err, out)
		}
	}
}
