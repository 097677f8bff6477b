package store

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"sync"
)

// Delivery payloads larger than compressAbove are stored gzipped: a
// 16 KB issue_comment shrinks to about a fifth, which is that much less
// to write, fsync and read back. Smaller ones, and rows written before,
// are stored as they came; a stored payload is gzip exactly when it starts
// with gzip's magic bytes, which JSON never does.
const compressAbove = 2 << 10

// maxPayload bounds what a stored payload may inflate to: GitHub caps a
// delivery at 25 MB.
const maxPayload = 32 << 20

var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return w
}}

// packPayload returns the form of p to store.
func packPayload(p []byte) []byte {
	if len(p) <= compressAbove {
		return p
	}
	var b bytes.Buffer
	b.Grow(len(p) / 3)
	w := gzipWriters.Get().(*gzip.Writer)
	w.Reset(&b)
	_, _ = w.Write(p) // a bytes.Buffer does not fail
	_ = w.Close()
	gzipWriters.Put(w)
	if b.Len() >= len(p) {
		return p
	}
	return b.Bytes()
}

// unpackPayload returns the payload a stored value holds.
func unpackPayload(p []byte) ([]byte, error) {
	if len(p) < 2 || p[0] != 0x1f || p[1] != 0x8b {
		return p, nil
	}
	r, err := gzip.NewReader(bytes.NewReader(p))
	if err != nil {
		return nil, fmt.Errorf("stored payload: %w", err)
	}
	out, err := io.ReadAll(io.LimitReader(r, maxPayload+1))
	if err != nil {
		return nil, fmt.Errorf("stored payload: %w", err)
	}
	if len(out) > maxPayload {
		return nil, fmt.Errorf("stored payload inflates past %d MiB", maxPayload>>20)
	}
	return out, nil
}
