package command

import (
	"unicode/utf8"

	"github.com/patchpanda/patchpanda/internal/spelling"
)

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
		if d := spelling.Distance(typed, k); d <= limit && (bestDist < 0 || d < bestDist) {
			best, bestDist = k, d
		}
	}
	return best
}
