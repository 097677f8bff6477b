//go:build !unix

package store

import "errors"

// freeBytes is not measured here; the write probe alone decides.
func freeBytes(string) (uint64, error) {
	return 0, errors.New("free space is not measured on this system")
}
