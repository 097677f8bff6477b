// Package calc is a tiny package whose tests make real coverprofiles.
package calc

// Classify says whether x is negative, zero, small or large.
func Classify(x int) string {
	if x < 0 {
		return "negative"
	} else if x == 0 {
		return "zero"
	}
	if x > 100 {
		return "large"
	}
	return "small"
}

// Sum adds xs, skipping negative numbers when skipNeg is set.
func Sum(xs []int, skipNeg bool) int {
	t := 0
	for _, x := range xs {
		if skipNeg && x < 0 {
			continue
		}
		t += x
	}
	return t
}

// Unused is never called by the tests.
func Unused() int {
	a := 1
	b := 2
	return a + b
}
