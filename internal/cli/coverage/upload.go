package coverage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/patchpanda/patchpanda/internal/cli/factory"
	cov "github.com/patchpanda/patchpanda/internal/coverage"
	"github.com/patchpanda/patchpanda/internal/ghenv"
	"github.com/patchpanda/patchpanda/internal/httpapi"
	"github.com/patchpanda/patchpanda/internal/iostreams"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// UploadOptions is what `coverage upload` runs with: the flags as given,
// and the machine (environment, git, waits) and the relay to default the
// rest from when it runs.
type UploadOptions struct {
	IO       *iostreams.IO
	Client   factory.ClientFunc
	Exporter factory.Exporter
	// Resolve returns the relay and credential kind, for --dry-run.
	Resolve func() (factory.Target, error)
	// DefaultRepo returns gh's repository, or "".
	DefaultRepo func() string
	deps

	Paths []string
	// Format is --format, or "" to detect each file's.
	Format                                       cov.Format
	Repo, SHA, Branch, Flag, Root, Prefix, CIJob string
	// PR is --pr when PRSet.
	PR      int
	PRSet   bool
	NoFiles bool
	DryRun  bool
}

func newUpload(f *factory.Factory, d deps, runF func(context.Context, *UploadOptions) error) *cli.Command {
	return &cli.Command{
		Name:      "upload",
		Usage:     "Upload coverage reports for a commit",
		ArgsUsage: "FILE...",
		Description: "Each FILE is sent gzip-compressed to the relay's POST /api/coverage, with the\n" +
			"repository's file list (git ls-files) so that report paths can be mapped.\n" +
			"Inside GitHub Actions --repo, --sha, --branch, --pr and --ci-job default to the\n" +
			"workflow run's, and without --token the job's OIDC ID token is used (the job\n" +
			"needs `permissions: id-token: write`). Elsewhere --sha and --branch default to\n" +
			"the current git checkout's HEAD.",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "repo", Aliases: []string{"R"}, Usage: "the repository, `OWNER/NAME`"},
			&cli.StringFlag{Name: "sha", Usage: "the commit the reports are for (full `SHA`)"},
			&cli.StringFlag{Name: "branch", Usage: "the commit's `BRANCH`"},
			&cli.IntFlag{Name: "pr", Usage: "the pull request `NUMBER`"},
			&cli.StringFlag{Name: "flag", Usage: "a `NAME` for this kind of coverage (unit, integration, ...)"},
			&cli.StringFlag{Name: "format", Usage: "read every FILE as `FORMAT`: lcov, cobertura, jacoco, clover, go or istanbul"},
			&cli.StringFlag{Name: "root", Usage: "strip `DIR` from the front of report paths (default: the checkout's top directory)"},
			&cli.StringFlag{Name: "prefix", Usage: "put `DIR` in front of relative report paths (default: the current directory within the checkout)"},
			&cli.StringFlag{Name: "ci-job", Usage: "the CI job that made the reports (`ID`)"},
			&cli.BoolFlag{Name: "no-files", Usage: "do not send the repository's file list"},
			&cli.BoolFlag{Name: "dry-run", Usage: "say what would be sent, where, and with which kind of credential, and send nothing"},
		}, factory.JSONFlags()...),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			opts := &UploadOptions{IO: f.IO, Client: f.ClientFor(cmd), Exporter: f.ExporterFor(cmd),
				Resolve: func() (factory.Target, error) { return f.Resolve(cmd) }, DefaultRepo: f.DefaultRepo, deps: d,
				Paths: cmd.Args().Slice(), Repo: cmd.String("repo"), SHA: cmd.String("sha"), Branch: cmd.String("branch"),
				Flag: cmd.String("flag"), Root: cmd.String("root"), Prefix: cmd.String("prefix"), CIJob: cmd.String("ci-job"),
				PR: cmd.Int("pr"), PRSet: cmd.IsSet("pr"), NoFiles: cmd.Bool("no-files"), DryRun: cmd.Bool("dry-run")}
			if len(opts.Paths) == 0 {
				return patchpanda.Errorf(patchpanda.EINVALID, "usage: ppctl coverage upload FILE...")
			}
			var err error
			if opts.Format, err = parseFormatFlag(cmd.String("format")); err != nil {
				return err
			}
			if opts.PR < 0 {
				return patchpanda.Errorf(patchpanda.EINVALID, "--pr %d is not a pull request number", opts.PR)
			}
			if runF != nil {
				return runF(ctx, opts)
			}
			return uploadRun(ctx, opts)
		},
	}
}

func uploadRun(ctx context.Context, opts *UploadOptions) error {
	paths, forced := opts.Paths, opts.Format
	act, inActions, err := ghenv.ActionsContext(opts.getenv)
	if err != nil {
		return err
	}
	co, inCheckout := currentCheckout(ctx, opts.git)
	o, err := target(opts, act, co)
	if err != nil {
		return err
	}

	// Every file is checked before anything is sent, so that a typo in the
	// last name does not leave a half-uploaded commit.
	formats := make([]string, len(paths))
	for i, p := range paths {
		format := forced
		if format == "" {
			if format, err = detect(p); err != nil {
				return err
			}
		} else if _, err := os.Stat(p); err != nil {
			return patchpanda.Errorf(patchpanda.EINVALID, "%v", err)
		}
		formats[i] = string(format)
	}

	var block []byte
	var n int
	if !opts.NoFiles {
		if inCheckout {
			if block, n, err = fileList(ctx, opts.git, co.top); err != nil {
				return err
			}
			if n == 0 {
				block = nil
			}
		}
		if block == nil {
			fmt.Fprintln(opts.IO.ErrOut, "warning: no git checkout here, so no file list is sent: the relay maps report paths as they are (--no-files silences this)")
		}
	}

	c, err := opts.Client()
	if err != nil {
		return err
	}
	if opts.DryRun {
		t, err := opts.Resolve()
		if err != nil {
			return err
		}
		credential := t.Kind
		if t.Token == "" && inActions {
			credential = "GitHub Actions OIDC ID token (audience " + ghenv.Audience + ")"
		}
		return printPlan(opts, c.BaseURL, credential, o, paths, formats, n)
	}
	if c.Token == "" && inActions {
		if act.Fork && opts.getenv("ACTIONS_ID_TOKEN_REQUEST_URL") == "" {
			return patchpanda.Errorf(patchpanda.EUNAUTHORIZED, "this pull request comes from a fork, and GitHub gives fork pull requests no OIDC ID token: "+
				"upload from a workflow_run workflow of the base repository (see docs/action.md), or pass a token")
		}
		tok, err := ghenv.IDToken(ctx, opts.getenv, opts.oidcHTTP, ghenv.Audience)
		if err != nil {
			return err
		}
		c.Token = tok
	}

	results := make([]uploaded, 0, len(paths))
	for i, p := range paths {
		o := o
		o.Format = formats[i]
		o.Retry = httpapi.Retry{Sleep: opts.sleep, OnRetry: func(attempt int, wait time.Duration, err error) {
			fmt.Fprintf(opts.IO.ErrOut, "%s: try %d failed: %s; trying again in %s\n", p, attempt, message(err), wait.Round(time.Second))
		}}
		res, err := c.UploadCoverage(ctx, o, uploadBody(p, block))
		if err != nil {
			// Show what did go up, then fail.
			if perr := printUploads(opts, results, block != nil); perr != nil {
				return errors.Join(err, perr)
			}
			return err
		}
		results = append(results, uploaded{path: p, Upload: res})
	}
	if err := printUploads(opts, results, block != nil); err != nil {
		return err
	}
	if inActions {
		// Outputs, the job summary and annotations for the workflow run.
		out, err := actionsOutcome(ctx, opts.deps, co, o, act, paths, formats, results)
		if err != nil {
			fmt.Fprintf(opts.IO.ErrOut, "warning: no job summary: %v\n", err)
			return nil
		}
		ghenv.Publish(opts.getenv, opts.IO.Out, out)
	}
	return nil
}

// target resolves the commit the upload is for: flags first, then the
// GitHub Actions run, then the gh extension's repository and the git
// checkout.
func target(opts *UploadOptions, act ghenv.Actions, co checkout) (httpapi.CoverageUploadOptions, error) {
	o := httpapi.CoverageUploadOptions{
		Repo:   firstOf(opts.Repo, act.Repository),
		SHA:    firstOf(opts.SHA, act.SHA, co.sha),
		Branch: firstOf(opts.Branch, act.Branch),
		PR:     act.PR,
		Flag:   opts.Flag,
		Root:   firstOf(opts.Root, co.top),
		Prefix: firstOf(opts.Prefix, co.prefix),
		CIJob:  firstOf(opts.CIJob, act.CIJob),
	}
	if o.Repo == "" && opts.DefaultRepo != nil {
		o.Repo = opts.DefaultRepo()
	}
	// The checkout's branch is only the commit's if the commit is HEAD.
	if o.Branch == "" && o.SHA == co.sha {
		o.Branch = co.branch
	}
	if opts.PRSet {
		o.PR = opts.PR
	}
	if o.Repo == "" {
		return o, patchpanda.Errorf(patchpanda.EINVALID, "which repository? Pass --repo OWNER/NAME (inside GitHub Actions it is GITHUB_REPOSITORY)")
	}
	if owner, name, ok := strings.Cut(o.Repo, "/"); !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return o, patchpanda.Errorf(patchpanda.EINVALID, "--repo %q is not OWNER/NAME", o.Repo)
	}
	if o.SHA == "" {
		return o, patchpanda.Errorf(patchpanda.EINVALID, "which commit? Pass --sha (the default is HEAD of the git checkout here, and there is none)")
	}
	if !isFullSHA(o.SHA) {
		return o, patchpanda.Errorf(patchpanda.EINVALID, "--sha %q is not a full commit sha (40 or 64 hex digits)", o.SHA)
	}
	return o, nil
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func isFullSHA(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// message is an error's text as printed to the user.
func message(err error) string {
	var pe *patchpanda.Error
	if errors.As(err, &pe) && err.Error() == pe.Error() {
		return pe.Message
	}
	return err.Error()
}

// uploadBody returns the body of one upload, opened afresh for every try:
// the file-list block (when not nil) and then the report, its own gzip
// undone so that the relay always reads a plain report after the block.
func uploadBody(path string, block []byte) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) {
		f, err := openReport(path)
		if err != nil {
			return nil, err
		}
		r, closeZ, err := plain(f)
		if err != nil {
			f.Close()
			return nil, patchpanda.Errorf(patchpanda.EINVALID, "%s: %v", path, err)
		}
		src := r
		if block != nil {
			src = io.MultiReader(bytes.NewReader(block), r)
		}
		return &reportBody{path: path, r: src, close: func() error { return errors.Join(closeZ(), f.Close()) }}, nil
	}
}

// reportBody names the report in read errors (a corrupt gzip file).
type reportBody struct {
	path  string
	r     io.Reader
	close func() error
}

func (b *reportBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		err = patchpanda.Errorf(patchpanda.EINVALID, "%s: %v", b.path, err)
	}
	return n, err
}

func (b *reportBody) Close() error { return b.close() }

// uploaded is one report that went up.
type uploaded struct {
	path string
	cov.Upload
}

// maxUnmappedShown bounds the unmapped paths printed per report.
const maxUnmappedShown = 10

func printUploads(opts *UploadOptions, us []uploaded, sentFiles bool) error {
	if opts.Exporter != nil {
		out := make([]cov.Upload, len(us))
		for i, u := range us {
			out[i] = u.Upload
		}
		return opts.Exporter.Write(out)
	}
	if len(us) == 0 {
		return nil
	}
	tp := opts.IO.Table("FILE", "REPORT", "STATUS", "FORMAT", "COVERAGE", "MAPPED", "UNMAPPED", "URL")
	for _, u := range us {
		status := "created"
		if u.Duplicate {
			status = "duplicate"
		}
		tp.AddField(u.path)
		tp.AddField(strconv.FormatInt(u.ID, 10))
		tp.AddField(status)
		tp.AddField(u.Format)
		tp.AddField(coverageText(u.Totals))
		tp.AddField(strconv.Itoa(u.Mapped))
		tp.AddField(strconv.Itoa(u.UnmappedCount))
		tp.AddField(u.URL)
		tp.EndRow()
	}
	if err := tp.Render(); err != nil {
		return err
	}
	// Unmapped paths are a diagnostic: they go to stderr, not into the
	// table a script reads.
	for _, u := range us {
		if u.UnmappedCount == 0 || !sentFiles {
			continue
		}
		fmt.Fprintf(opts.IO.ErrOut, "warning: %s: %d report path(s) match no file of the repository (try --root or --prefix):\n", u.path, u.UnmappedCount)
		shown := u.Unmapped[:min(len(u.Unmapped), maxUnmappedShown)]
		for _, p := range shown {
			fmt.Fprintf(opts.IO.ErrOut, "  %s\n", p)
		}
		if rest := u.UnmappedCount - len(shown); rest > 0 {
			fmt.Fprintf(opts.IO.ErrOut, "  ... and %d more\n", rest)
		}
	}
	return nil
}

// plannedUpload is what --dry-run says one upload would be.
type plannedUpload struct {
	File       string `json:"file"`
	Format     string `json:"format"`
	URL        string `json:"url"`
	Credential string `json:"credential"`
	// FileList is how many repository paths go with the report.
	FileList int `json:"file_list"`
}

// printPlan prints what an upload would send without sending it: each
// report's format, the request's URL with its query, the kind of
// credential (never the credential), and the size of the file list.
func printPlan(opts *UploadOptions, base, credential string, o httpapi.CoverageUploadOptions, paths, formats []string, files int) error {
	plan := make([]plannedUpload, len(paths))
	for i, p := range paths {
		o := o
		o.Format = formats[i]
		plan[i] = plannedUpload{File: p, Format: formats[i], URL: base + "/api/coverage?" + o.Query().Encode(), Credential: credential, FileList: files}
	}
	if opts.Exporter != nil {
		return opts.Exporter.Write(plan)
	}
	fmt.Fprintln(opts.IO.ErrOut, "Dry run: nothing is sent.")
	for _, p := range plan {
		fmt.Fprintf(opts.IO.Out, "%s (%s)\n  POST %s\n  credential: %s\n  file list: %d paths\n", p.File, p.Format, p.URL, p.Credential, p.FileList)
	}
	return nil
}
