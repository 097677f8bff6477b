package calc

import "testing"

func TestClassify(t *testing.T) {
	for _, x := range []int{-1, 0, 5, 5, 5} {
		if Classify(x) == "" {
			t.Fatal("empty")
		}
	}
	if Sum([]int{1, -2, 3}, true) != 4 {
		t.Fatal("sum")
	}
}
