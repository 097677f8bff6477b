package coverage

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"

	cov "github.com/patchpanda/patchpanda/internal/coverage"
	"github.com/patchpanda/patchpanda/internal/patchpanda"
)

// gzipMagic starts every gzip stream.
var gzipMagic = []byte{0x1f, 0x8b}

// parseFormatFlag returns the --format value as a Format, "" when unset.
func parseFormatFlag(s string) (cov.Format, error) {
	if s == "" {
		return "", nil
	}
	f, err := cov.ParseFormat(s)
	if err != nil {
		return "", patchpanda.Errorf(patchpanda.EINVALID, "--format: unknown format %q (want one of lcov, cobertura, jacoco, clover, go, istanbul)", s)
	}
	return f, nil
}

// openReport opens the report at path, which the user named.
func openReport(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, patchpanda.Errorf(patchpanda.EINVALID, "%v", err)
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		f.Close()
		return nil, patchpanda.Errorf(patchpanda.EINVALID, "%s is a directory, not a coverage report", path)
	}
	return f, nil
}

// detect returns the format of the report at path from its first bytes
// (gzip undone): an EINVALID error naming the file when it is no format
// we read.
func detect(path string) (cov.Format, error) {
	f, err := openReport(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	r, closeR, err := plain(f)
	if err != nil {
		return "", patchpanda.Errorf(patchpanda.EINVALID, "%s: %v", path, err)
	}
	defer closeR()
	peek := make([]byte, 8<<10)
	n, err := io.ReadFull(r, peek)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return "", patchpanda.Errorf(patchpanda.EINVALID, "%s: %v", path, err)
	}
	format, err := cov.Detect(peek[:n])
	if err != nil {
		return "", patchpanda.Errorf(patchpanda.EINVALID, "%s: %v; name it with --format", path, err)
	}
	return format, nil
}

// plain returns r with gzip undone when it starts with gzip's magic bytes,
// and a function to release the decompressor.
func plain(r io.Reader) (io.Reader, func() error, error) {
	br := bufio.NewReader(r)
	magic, err := br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("read: %w", err)
	}
	if !bytes.Equal(magic, gzipMagic) {
		return br, func() error { return nil }, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, nil, fmt.Errorf("gzip: %w", err)
	}
	return zr, zr.Close, nil
}
