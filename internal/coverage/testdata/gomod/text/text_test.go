package text

import "testing"

func TestDescribe(t *testing.T) {
	if Describe(1000, 3) != "large,small" {
		t.Fatal(Describe(1000, 3))
	}
}
