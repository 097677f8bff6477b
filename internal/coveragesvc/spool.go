package coveragesvc

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/patchpanda/patchpanda/internal/coverage"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// Bounds of the optional file-list block.
const (
	maxListedFiles = 1 << 21
	maxPathLen     = 4096
)

// spooled is an upload read to disk: the report (plain, seekable, so LCOV
// can be read twice) and the whole decompressed body gzipped for the blob
// store.
type spooled struct {
	files    []string // the file list, nil when the upload had none
	hasList  bool
	report   *os.File
	raw      *os.File // gzip of the decompressed body
	sum      string   // hex sha256 of the decompressed body
	size     int64    // decompressed bytes
	rawBytes int64
}

func (sp *spooled) Close() {
	for _, f := range []*os.File{sp.report, sp.raw} {
		if f != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}
}

var errTooLarge = errors.New("coveragesvc: upload too large")

// capped reads at most n bytes from r and fails with errTooLarge as soon as
// r has more, so a gzip bomb is stopped after n decompressed bytes.
type capped struct {
	r    io.Reader
	left int64
	read int64
}

func (c *capped) Read(p []byte) (int, error) {
	if c.left <= 0 {
		var one [1]byte
		n, err := c.r.Read(one[:])
		if n > 0 {
			return 0, errTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	c.read += int64(n)
	return n, err
}

var gzipMagic = []byte{0x1f, 0x8b}

// spool reads body into temporary files. It returns an ETOOLARGE error
// when the decompressed body exceeds max, an EINVALID error for broken
// gzip or a malformed file list, and an EUNSUPPORTED one for a
// Content-Encoding other than gzip.
func (s *Service) spool(body io.Reader, encoding string) (_ *spooled, err error) {
	max := s.opts.MaxUploadBytes
	br := bufio.NewReaderSize(body, 64<<10)
	var src io.Reader = br
	magic, perr := br.Peek(2)
	if perr != nil && !errors.Is(perr, io.EOF) {
		return nil, readError(perr, max)
	}
	switch encoding {
	case "", "identity", "gzip", "x-gzip":
	default:
		return nil, patchpanda.Errorf(patchpanda.EUNSUPPORTED, "Content-Encoding %q is not supported (send gzip or nothing)", encoding)
	}
	if encoding == "gzip" || encoding == "x-gzip" || bytes.Equal(magic, gzipMagic) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, patchpanda.Errorf(patchpanda.EINVALID, "the body is not valid gzip: %v", err)
		}
		defer zr.Close()
		src = zr
	}
	sp := &spooled{}
	defer func() {
		if err != nil {
			sp.Close()
		}
	}()
	if sp.report, err = os.CreateTemp(s.opts.TempDir, "coverage-report-*"); err != nil {
		return nil, fmt.Errorf("coveragesvc: spool: %w", err)
	}
	if sp.raw, err = os.CreateTemp(s.opts.TempDir, "coverage-raw-*.gz"); err != nil {
		return nil, fmt.Errorf("coveragesvc: spool: %w", err)
	}
	lim := &capped{r: src, left: max}
	h := sha256.New()
	zw, _ := gzip.NewWriterLevel(sp.raw, gzip.BestSpeed)
	tr := bufio.NewReaderSize(io.TeeReader(lim, io.MultiWriter(h, zw)), 64<<10)

	head, perr := tr.Peek(len(coverage.FilesHeader))
	if perr != nil && !errors.Is(perr, io.EOF) && !errors.Is(perr, bufio.ErrBufferFull) {
		return nil, readError(perr, max)
	}
	if string(head) == coverage.FilesHeader || string(head) == strings.TrimSuffix(coverage.FilesHeader, "\n")+"\r" {
		if err := readFileList(tr, sp); err != nil {
			return nil, readError(err, max)
		}
	}
	if _, err := io.Copy(sp.report, tr); err != nil {
		return nil, readError(err, max)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("coveragesvc: spool: %w", err)
	}
	sp.sum = hex.EncodeToString(h.Sum(nil))
	sp.size = lim.read
	if sp.rawBytes, err = sp.raw.Seek(0, io.SeekCurrent); err != nil {
		return nil, fmt.Errorf("coveragesvc: spool: %w", err)
	}
	if _, err := sp.report.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("coveragesvc: spool: %w", err)
	}
	if _, err := sp.raw.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("coveragesvc: spool: %w", err)
	}
	return sp, nil
}

// readFileList reads the file-list block up to and including ReportHeader.
func readFileList(r *bufio.Reader, sp *spooled) error {
	sp.hasList = true
	sp.files = []string{}
	report := strings.TrimSuffix(coverage.ReportHeader, "\n")
	for n := 1; ; n++ {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return patchpanda.Errorf(patchpanda.EINVALID, "file list line %d is longer than %d bytes", n, maxPathLen)
		}
		if err != nil && !(errors.Is(err, io.EOF) && len(line) > 0) {
			if errors.Is(err, io.EOF) {
				return patchpanda.Errorf(patchpanda.EINVALID, "the file list has no %q line ending it", report)
			}
			return err
		}
		s := strings.TrimRight(string(line), "\r\n")
		switch {
		case n == 1:
			continue // the header
		case s == report:
			return nil
		case s == "":
			continue
		case len(s) > maxPathLen:
			return patchpanda.Errorf(patchpanda.EINVALID, "file list line %d is longer than %d bytes", n, maxPathLen)
		case len(sp.files) >= maxListedFiles:
			return patchpanda.Errorf(patchpanda.EINVALID, "the file list has more than %d files", maxListedFiles)
		}
		sp.files = append(sp.files, s)
		if errors.Is(err, io.EOF) {
			return patchpanda.Errorf(patchpanda.EINVALID, "the file list has no %q line ending it", report)
		}
	}
}

// readError classifies a failure reading the body.
func readError(err error, max int64) error {
	var tooBig *http.MaxBytesError
	var pe *patchpanda.Error
	switch {
	case errors.Is(err, errTooLarge), errors.As(err, &tooBig):
		return patchpanda.Errorf(patchpanda.ETOOLARGE, "the upload is larger than %d bytes (after decompression); split the report or raise the relay's limit", max)
	case errors.As(err, &pe):
		return err
	case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader), errors.Is(err, io.ErrUnexpectedEOF):
		return patchpanda.Errorf(patchpanda.EINVALID, "the body is not valid gzip or was cut short: %v", err)
	}
	return fmt.Errorf("coveragesvc: read upload: %w", err)
}
