package coverage

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	cov "github.com/patchpanda/patchpanda/internal/coverage"
)

func TestCheckoutAndFileListFromRealGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	top, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	git := func(args ...string) {
		t.Helper()
		c := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main"}, args...)...)
		c.Dir = top
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	for _, f := range []string{"go.mod", "sub/calc.go", "sub/with space.go"} {
		p := filepath.Join(top, f)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git("init", "-q")
	git("add", ".")
	git("commit", "-q", "-m", "first")
	t.Chdir(filepath.Join(top, "sub"))

	co, ok := currentCheckout(context.Background(), runGit)
	if !ok {
		t.Fatal("no checkout found")
	}
	if co.top != top || co.prefix != "sub" || !isFullSHA(co.sha) || co.branch != "main" {
		t.Errorf("checkout = %+v, want top %s, prefix sub, a sha, branch main", co, top)
	}
	block, n, err := fileList(context.Background(), runGit, co.top)
	if err != nil {
		t.Fatal(err)
	}
	want := cov.FilesHeader + "go.mod\nsub/calc.go\nsub/with space.go\n" + cov.ReportHeader
	if diff := cmp.Diff(want, string(block)); diff != "" || n != 3 {
		t.Errorf("file list of %d files (-want +got):\n%s", n, diff)
	}

	t.Chdir(t.TempDir())
	if co, ok := currentCheckout(context.Background(), runGit); ok {
		t.Errorf("outside a checkout found %+v", co)
	}
}

func TestFileListLeavesOutWhatTheBlockCannotCarry(t *testing.T) {
	git := func(context.Context, ...string) ([]byte, error) {
		return []byte("a.go\x00new\nline.go\x00# patchpanda-report\x00b.go\x00"), nil
	}
	block, n, err := fileList(context.Background(), git, "/r")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(block), "\n"); n != 2 || got != 4 {
		t.Errorf("block %q has %d files, %d lines; want 2 files", block, n, got)
	}
}
