// Package spelling measures how far a mistyped word is from the ones that
// exist, for the "did you mean" of the relay's chat commands, ppctl's
// commands and flags, and the relay's settings. Each caller keeps its own
// rule for what counts as close; the distance is written once, here.
package spelling

// Distance returns the optimal string alignment distance between a and b:
// the fewest insertions, deletions, substitutions and swaps of adjacent runes
// that turn a into b, where no part is edited twice. Callers bound the
// length of what they compare: the cost is len(a)×len(b).
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// Three rows of the table: d[i-2], d[i-1] and d[i], where d[i][j] is the
	// distance between ra[:i] and rb[:j].
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
