package command

import "unicode/utf8"

// maxSuggestLen bounds the words suggest compares, so that a long word costs
// nothing: nobody mistypes "generate" as forty letters.
const maxSuggestLen = 32

// suggest returns the word in known that typed was most likely meant to be,
// or "" when none is close. Close means a prefix of it ("gen" for
// "generate"), or within an edit distance of one for short words and two for
// words of six letters or more, where swapping two neighbouring letters is one
// edit. Ties go to the word earlier in known.
func suggest(typed string, known []string) string {
	if typed == "" || utf8.RuneCountInString(typed) > maxSuggestLen {
		return ""
	}
	best, bestDist := "", -1
	for _, k := range known {
		if len(typed) >= 2 && len(typed) < len(k) && k[:len(typed)] == typed {
			return k
		}
		limit := 1
		if utf8.RuneCountInString(k) >= 6 {
			limit = 2
		}
		if d := distance(typed, k); d <= limit && (bestDist < 0 || d < bestDist) {
			best, bestDist = k, d
		}
	}
	return best
}

// distance returns the optimal string alignment distance between a and b:
// the fewest insertions, deletions, substitutions and swaps of adjacent runes
// that turn a into b, where no part is edited twice.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// d[i][j] is the distance between ra[:i] and rb[:j].
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
