// Package coveragesvc ingests coverage uploads and serves stored coverage:
// it spools an upload to a temporary file under a size limit, hashes,
// parses and maps it to repository paths, stores the rows and the raw
// upload (compressed, in a gocloud.dev bucket), and, in the same
// transaction, enqueues the pull-request feedback once a commit has all
// the uploads its .testbot.yml expects.
//
// Paths: with the upload's file list, report paths go through
// coverage.Mapper (root=, prefix=, suffix match); without one they are only
// cleaned (root stripped, prefix added) and absolute leftovers are
// unmapped. For Go profiles the module path comes from module= (and
// module_dir=) when given, else from go.mod read through the App at the
// uploaded sha: the root go.mod, or the only one the file list names.
// Unmapped files are not stored; the report's Totals stay the tool's own.
package coveragesvc

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob" // file:// buckets, the default
	_ "gocloud.dev/blob/memblob"  // mem:// buckets, for tests

	"github.com/patchpanda/patchpanda/internal/config"
	"github.com/patchpanda/patchpanda/internal/coverage"
	"github.com/patchpanda/patchpanda/internal/githubapp"
	"github.com/patchpanda/patchpanda/internal/limits"
	"github.com/patchpanda/patchpanda/internal/ratelimit"
	"github.com/patchpanda/patchpanda/internal/store"
)

// Defaults of Options.
const (
	DefaultMaxUploadBytes   = 256 << 20
	DefaultUploadsPerMinute = 60
)

// Options are the coverage settings of the relay.
type Options struct {
	// BlobURL is a gocloud.dev bucket URL for raw uploads: file:///DIR,
	// mem://, and with the build tag "cloud" s3://BUCKET or
	// gs://BUCKET. Empty means BlobDir.
	BlobURL string
	// BlobDir is the local directory used when BlobURL is empty (see
	// DefaultBlobDir).
	BlobDir string
	// MaxUploadBytes bounds an upload after decompression (and before);
	// DefaultMaxUploadBytes when 0.
	MaxUploadBytes int64
	// UploadsPerMinute is each repository's upload rate (with bursts of as
	// many); DefaultUploadsPerMinute when 0, no limit when negative.
	UploadsPerMinute int
	// TempDir holds spooled uploads; os.TempDir() when empty.
	TempDir string
	// Server is the server-side config merged into .testbot.yml; may be nil.
	Server *config.Server
	// Now is the clock of the rate limit; time.Now when nil.
	Now func() time.Time
	// Limits is one report's budget (files, expanded lines, XML depth and
	// elements); a zero field takes DefaultLimits' value.
	Limits coverage.Limits
	// MaxCommitLines bounds the line records all reports of one commit
	// hold together (merged); DefaultMaxCommitLines when 0.
	MaxCommitLines int64
	// Reporter counts and logs the limits hit; may be nil.
	Reporter *limits.Reporter
}

// DefaultMaxCommitLines is the default of Options.MaxCommitLines.
const DefaultMaxCommitLines = 10_000_000

// DefaultLimits is the relay's default budget of one report. It is
// tighter than the parsers' own default on lines: a relay parses several
// uploads at once, and a line record costs about 32 bytes while a report is
// collected (2,000,000 lines: about 64 MB).
var DefaultLimits = coverage.Limits{MaxFiles: 100_000, MaxLines: 2_000_000, MaxDepth: 32, MaxElements: 20_000_000}

// DefaultBlobDir returns where raw uploads are kept without a BlobURL:
// "coverage" beside the SQLite file, or ./patchpanda-coverage when the
// database is PostgreSQL (dbPath "").
func DefaultBlobDir(dbPath string) string {
	if dbPath == "" || dbPath == ":memory:" {
		return "patchpanda-coverage"
	}
	return filepath.Join(filepath.Dir(dbPath), "coverage")
}

// GitHub is what ingestion asks GitHub: .testbot.yml and go.mod at the
// uploaded commit, and a pull request's base.
type GitHub interface {
	Contents(ctx context.Context, installationID int64, owner, repo, path, ref string) (*githubapp.File, error)
	PullRequest(ctx context.Context, installationID int64, owner, repo string, number int) (*githubapp.PullRequest, error)
}

// Service is the coverage service. Build it with New; close it with Close.
type Service struct {
	db     *store.DB
	gh     GitHub
	log    *slog.Logger
	opts   Options
	bucket *blob.Bucket
	limit  *ratelimit.Buckets[string]
	// Enqueued is called after a commit that enqueued feedback (to wake
	// the outbox runner); may be nil.
	Enqueued func()
}

// New opens the blob bucket and returns the service. It returns an error
// naming the setting when the bucket cannot be opened.
func New(ctx context.Context, db *store.DB, gh GitHub, logger *slog.Logger, opts Options) (*Service, error) {
	if opts.MaxUploadBytes <= 0 {
		opts.MaxUploadBytes = DefaultMaxUploadBytes
	}
	if opts.UploadsPerMinute == 0 {
		opts.UploadsPerMinute = DefaultUploadsPerMinute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	def := DefaultLimits
	opts.Limits.MaxFiles = cmp.Or(opts.Limits.MaxFiles, def.MaxFiles)
	opts.Limits.MaxLines = cmp.Or(opts.Limits.MaxLines, def.MaxLines)
	opts.Limits.MaxDepth = cmp.Or(opts.Limits.MaxDepth, def.MaxDepth)
	opts.Limits.MaxElements = cmp.Or(opts.Limits.MaxElements, def.MaxElements)
	opts.MaxCommitLines = cmp.Or(opts.MaxCommitLines, DefaultMaxCommitLines)
	if opts.TempDir == "" {
		opts.TempDir = os.TempDir()
	}
	u := opts.BlobURL
	if u == "" {
		dir := opts.BlobDir
		if dir == "" {
			dir = DefaultBlobDir(db.Path())
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, fmt.Errorf("coverage blob directory %s: %w", dir, err)
		}
		u = (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: "create_dir=1&no_tmp_dir=1&metadata=skip"}).String()
	}
	b, err := blob.OpenBucket(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("coverage blob bucket %s: %w (s3:// and gs:// need a relay built with -tags cloud)", redact(u), err)
	}
	s := &Service{db: db, gh: gh, log: logger, opts: opts, bucket: b}
	if opts.UploadsPerMinute > 0 {
		s.limit = ratelimit.New[string](opts.UploadsPerMinute, opts.UploadsPerMinute, opts.Now)
	}
	return s, nil
}

func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparsable URL)"
	}
	return p.Redacted()
}

// Close closes the bucket.
func (s *Service) Close() error { return s.bucket.Close() }

// MaxUploadBytes returns the upload size limit.
func (s *Service) MaxUploadBytes() int64 { return s.opts.MaxUploadBytes }
