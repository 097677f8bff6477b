// Package text uses calc so that -coverpkg covers calc from two test binaries.
package text

import (
	"strings"

	"example.com/gold/calc"
)

// Describe describes each number.
func Describe(xs ...int) string {
	var parts []string
	for _, x := range xs {
		parts = append(parts, calc.Classify(x))
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ",")
}
