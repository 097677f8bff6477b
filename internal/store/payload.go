package store

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
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

var gzipReaders sync.Pool // of *gzip.Reader

// unpackPayload returns the payload a stored value holds.
func unpackPayload(p []byte) ([]byte, error) {
	if len(p) < 2 || p[0] != 0x1f || p[1] != 0x8b {
		return p, nil
	}
	var err error
	r, _ := gzipReaders.Get().(*gzip.Reader)
	if r == nil {
		r, err = gzip.NewReader(bytes.NewReader(p))
	} else {
		err = r.Reset(bytes.NewReader(p))
	}
	if err != nil {
		return nil, fmt.Errorf("stored payload: %w", err)
	}
	defer gzipReaders.Put(r)
	// gzip's trailer ends with the inflated size (mod 4 GiB): one
	// allocation of the right size instead of a slice grown by doubling,
	// but no more than deflate can inflate to (about 1,032 to 1), so a
	// corrupt trailer cannot ask for much.
	size := 512
	if len(p) >= 18 {
		size = int(binary.LittleEndian.Uint32(p[len(p)-4:])) + 1 // +1: room to see the end
	}
	out := bytes.NewBuffer(make([]byte, 0, min(size, 1032*len(p), maxPayload+1)))
	if _, err := out.ReadFrom(io.LimitReader(r, maxPayload+1)); err != nil {
		return nil, fmt.Errorf("stored payload: %w", err)
	}
	if out.Len() > maxPayload {
		return nil, fmt.Errorf("stored payload inflates past %d MiB", maxPayload>>20)
	}
	return out.Bytes(), nil
}
