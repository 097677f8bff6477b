package coverage

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"

	cov "github.com/patchpanda/patchpanda/internal/coverage"
)

// runGit runs git with args in the current directory and returns its
// stdout, or an error carrying git's stderr.
func runGit(ctx context.Context, args ...string) ([]byte, error) {
	c := exec.CommandContext(ctx, "git", args...)
	var stderr bytes.Buffer
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		return nil, fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// checkout is what git says about the current directory.
type checkout struct {
	top    string // absolute path of the work tree's top
	prefix string // the current directory below top, "" at the top
	sha    string // HEAD's commit, "" before the first commit
	branch string // HEAD's branch, "" when detached
}

// currentCheckout describes the git work tree holding the current
// directory; ok is false when there is none (or no git at all).
func currentCheckout(ctx context.Context, git func(context.Context, ...string) ([]byte, error)) (c checkout, ok bool) {
	out, err := git(ctx, "rev-parse", "--show-toplevel", "--show-prefix")
	if err != nil {
		return checkout{}, false
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	c.top = lines[0]
	if len(lines) > 1 {
		c.prefix = strings.TrimSuffix(lines[1], "/")
	}
	if out, err := git(ctx, "rev-parse", "--verify", "--quiet", "HEAD"); err == nil {
		c.sha = strings.TrimSpace(string(out))
	}
	if out, err := git(ctx, "symbolic-ref", "--quiet", "--short", "HEAD"); err == nil {
		c.branch = strings.TrimSpace(string(out))
	}
	return c, true
}

// fileList returns the file-list block of an upload: the repository's
// tracked files (relative to the top of the checkout, whatever the current
// directory) between cov.FilesHeader and cov.ReportHeader. Paths
// the line-based block cannot carry (a newline in the name, or a header
// line itself) are left out; the relay then maps those report paths by
// their suffix.
func fileList(ctx context.Context, git func(context.Context, ...string) ([]byte, error), top string) ([]byte, int, error) {
	out, err := git(ctx, "-C", top, "ls-files", "-z")
	if err != nil {
		return nil, 0, fmt.Errorf("list the repository's files: %w", err)
	}
	var b bytes.Buffer
	b.Grow(len(out) + len(cov.FilesHeader) + len(cov.ReportHeader))
	b.WriteString(cov.FilesHeader)
	n := 0
	for _, p := range bytes.Split(out, []byte{0}) {
		if len(p) == 0 || bytes.ContainsAny(p, "\r\n") || bytes.HasPrefix(p, []byte("# patchpanda-")) {
			continue
		}
		b.Write(p)
		b.WriteByte('\n')
		n++
	}
	b.WriteString(cov.ReportHeader)
	return b.Bytes(), n, nil
}
